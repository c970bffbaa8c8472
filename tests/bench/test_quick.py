"""Every runnable benchmark (`python -m bench.X`) runs in its `--quick` size and prints its figures,
so a benchmark that breaks fails CI. A module is runnable when it has an `if __name__ == "__main__"`
block: a new benchmark is covered without touching this file."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300  # each takes seconds (the sequencer's about 20 s); this only bounds a hang
FIGURE = re.compile(r"\d")


def runnable_modules() -> list[str]:
    """The bench/*.py modules with a `__main__` block, and the bench/*/ packages with a `__main__.py`."""
    names = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        if any(_is_main_guard(node) for node in tree.body):
            names.append(path.stem)
    names += sorted(p.parent.name for p in (ROOT / "bench").glob("*/__main__.py"))
    return names


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides
    )


def test_the_benchmarks_are_found() -> None:
    assert {"paper", "stf", "sequencer", "prover_gas", "fraud_game", "onchain_twins", "gas"} <= set(
        runnable_modules()
    )
    assert "__init__" not in runnable_modules()


@pytest.mark.parametrize("module", runnable_modules())
def test_quick_run(module: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLROLLUP_") and k != "DATABASE_URL"}
    env["TMPDIR"] = str(tmp_path)  # what a benchmark leaves behind (logs, databases) goes with the test
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0, (
        f"bench.{module} --quick exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    figures = [line for line in done.stdout.splitlines() if FIGURE.search(line)]
    assert len(figures) >= 2, f"bench.{module} --quick printed no figures:\n{done.stdout}"
    print(f"bench.{module} --quick: {seconds:.1f} s")
