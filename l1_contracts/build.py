"""Compile `l1_contracts/src/**/*.sol` with the pinned npm `solc` and write the artifacts.

`python -m l1_contracts.build` writes `l1_contracts/artifacts/<Contract>.json` (ABI, bytecode,
compiler version and settings); `--check` compiles and fails if any committed artifact differs,
which is how CI keeps the committed artifacts true. Needs Node and `npm ci` at the repository root;
running the rollup does not (the artifacts are committed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from l1_contracts.errors import BuildError

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
SOURCES = PACKAGE / "src"
ARTIFACTS = PACKAGE / "artifacts"
MAX_CODE_SIZE = 24_576  # EIP-170, enforced by py-evm

SETTINGS: dict[str, Any] = {
    "evmVersion": "prague",
    "viaIR": True,
    "optimizer": {"enabled": True, "runs": 200},
    # no metadata hash in the bytecode: artifacts depend on the code, not on comments or paths
    "metadata": {"bytecodeHash": "none", "appendCBOR": False},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}

# solc-js's CLI prints noise before its JSON: call its compile() through node with standard JSON.
_NODE_COMPILE = """
const solc = require('solc');
let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify({version: solc.version(), output: JSON.parse(solc.compile(input))}));
});
"""


def standard_input() -> dict[str, Any]:
    """The standard-JSON compiler input for every source under `src/`."""
    files = sorted(SOURCES.rglob("*.sol"))
    if not files:
        raise BuildError(f"no Solidity sources under {SOURCES}")
    sources = {str(p.relative_to(PACKAGE)): {"content": p.read_text()} for p in files}
    return {"language": "Solidity", "sources": sources, "settings": SETTINGS}


def compile_sources() -> tuple[str, dict[str, Any]]:
    """Run solc-js on the sources; returns the compiler version and its standard-JSON output."""
    node = shutil.which("node")
    if node is None:
        raise BuildError("node is not on PATH: install Node 20 to rebuild the contracts")
    if not (ROOT / "node_modules" / "solc").is_dir():
        raise BuildError("the solc package is missing: run `npm ci` at the repository root")
    proc = subprocess.run(
        [node, "-e", _NODE_COMPILE],
        input=json.dumps(standard_input()),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise BuildError(f"solc-js failed: {proc.stderr.strip()[:2000]}")
    result = json.loads(proc.stdout)
    errors = [e for e in result["output"].get("errors", []) if e["severity"] == "error"]
    if errors:
        raise BuildError("\n".join(e["formattedMessage"] for e in errors))
    return str(result["version"]), result["output"]


def artifacts(version: str, output: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One artifact per contract, library and interface, by contract name."""
    out: dict[str, dict[str, Any]] = {}
    for source, contracts in sorted(output["contracts"].items()):
        for name, c in sorted(contracts.items()):
            if name in out:
                raise BuildError(f"two contracts are named {name}: names must be unique")
            deployed = c["evm"]["deployedBytecode"]["object"]
            if len(deployed) // 2 > MAX_CODE_SIZE:
                raise BuildError(f"{name} is {len(deployed) // 2} bytes, over the {MAX_CODE_SIZE}-byte limit")
            out[name] = {
                "contractName": name,
                "sourceName": source,
                "abi": c["abi"],
                "bytecode": "0x" + c["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + deployed,
                "compiler": {"name": "solc-js", "version": version, "settings": SETTINGS},
            }
    return out


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if committed artifacts differ")
    args = parser.parse_args(argv)
    try:
        built = artifacts(*compile_sources())
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 2
    wanted = {f"{name}.json": render(a) for name, a in built.items()}
    present = {p.name for p in ARTIFACTS.glob("*.json")}
    if args.check:
        stale = sorted(
            n
            for n, text in wanted.items()
            if not (ARTIFACTS / n).is_file() or (ARTIFACTS / n).read_text() != text
        )
        extra = sorted(present - set(wanted))
        if stale or extra:
            print(
                f"artifacts differ from the sources: stale {stale}, extra {extra}; run "
                "`python -m l1_contracts.build`",
                file=sys.stderr,
            )
            return 1
        print(f"{len(wanted)} artifacts match the sources")
        return 0
    ARTIFACTS.mkdir(exist_ok=True)
    for name in present - set(wanted):
        (ARTIFACTS / name).unlink()
    for name, text in wanted.items():
        (ARTIFACTS / name).write_text(text)
    sizes = ", ".join(
        f"{n} {len(a['deployedBytecode']) // 2 - 1:,} B"
        for n, a in built.items()
        if len(a["deployedBytecode"]) > 2
    )
    print(f"wrote {len(wanted)} artifacts to {ARTIFACTS}: {sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
