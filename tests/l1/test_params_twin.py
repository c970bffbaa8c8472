"""`l1_contracts/src/ProtocolParams.sol` is the twin of `protocol/params.py`: the same constants, bit
for bit, and no other Solidity file keeps a copy of one.

The Solidity file is parsed (file-level `uint256|int256|bytes32 constant NAME = EXPR;` lines) and each
expression evaluated with integer semantics (literals, `+ - * ** <<`, earlier constants), so a value
that drifts from Python's, a constant missing on either side, or a value that does not fit its
Solidity type fails here, before any state root disagrees.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from protocol import params

SRC = Path(__file__).resolve().parents[2] / "l1_contracts" / "src"
TWIN = SRC / "ProtocolParams.sol"

_DECLARATION = re.compile(r"^(uint256|int256|bytes32) constant (\w+) = (.+?);\s*(?://.*)?$", re.MULTILINE)
_KECCAK_OF_STRING = re.compile(r'^keccak256\("([^"\\]*)"\)$')
_BINARY: Mapping[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
}
_RANGES = {"uint256": (0, 2**256 - 1), "int256": (-(2**255), 2**255 - 1)}


def python_constants() -> dict[str, int | str]:
    """Every constant of protocol/params.py (upper-case names bound to an int or a str)."""
    return {
        name: value
        for name, value in vars(params).items()
        if name.isupper() and isinstance(value, int | str) and not isinstance(value, bool)
    }


def _evaluate(expr: str, known: Mapping[str, int]) -> int:
    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"unsupported expression {ast.unparse(node)!r}")

    return walk(ast.parse(expr, mode="eval").body)


def solidity_constants(source: str) -> dict[str, int | str]:
    """The constants a ProtocolParams.sol text declares, by their params.py name: integers evaluated,
    `NAME_HASH = keccak256("s")` read as `NAME = "s"`. Raises ValueError on a value out of its type."""
    out: dict[str, int | str] = {}
    ints: dict[str, int] = {}
    for kind, name, expr in _DECLARATION.findall(source):
        if kind == "bytes32":
            match = _KECCAK_OF_STRING.match(expr)
            if match is None or not name.endswith("_HASH"):
                raise ValueError(f'{name}: a bytes32 constant must be NAME_HASH = keccak256("…")')
            out[name.removesuffix("_HASH")] = match.group(1)
            continue
        value = _evaluate(expr, ints)
        lo, hi = _RANGES[kind]
        if not lo <= value <= hi:
            raise ValueError(f"{name} = {value} does not fit {kind}")
        ints[name] = value
        out[name] = value
    return out


def mismatches(source: str) -> list[str]:
    """What differs between a ProtocolParams.sol text and protocol/params.py (empty when they agree)."""
    solidity, python = solidity_constants(source), python_constants()
    problems = [
        f"{n} is in protocol/params.py but not in ProtocolParams.sol"
        for n in sorted(python.keys() - solidity.keys())
    ]
    problems += [
        f"{n} is in ProtocolParams.sol but not in protocol/params.py"
        for n in sorted(solidity.keys() - python.keys())
    ]
    problems += [
        f"{n}: ProtocolParams.sol has {solidity[n]!r}, protocol/params.py {python[n]!r}"
        for n in sorted(solidity.keys() & python.keys())
        if solidity[n] != python[n] or type(solidity[n]) is not type(python[n])
    ]
    return problems


def test_protocol_params_sol_equals_params_py() -> None:
    assert mismatches(TWIN.read_text()) == []


def test_a_drifted_constant_is_caught() -> None:
    source = TWIN.read_text()
    drifted = source.replace(
        "uint256 constant MAX_STEP_MACS = 16_384;", "uint256 constant MAX_STEP_MACS = 16_385;"
    )
    assert drifted != source
    found = mismatches(drifted)
    # MAX_REVEAL_VALUES is derived from MAX_STEP_MACS: it drifts with it
    assert found == [
        "MAX_REVEAL_VALUES: ProtocolParams.sol has 16449, protocol/params.py 16448",
        "MAX_STEP_MACS: ProtocolParams.sol has 16385, protocol/params.py 16384",
    ]
    renamed = source.replace('keccak256("mlrollup")', 'keccak256("mlrollup2")')
    assert mismatches(renamed) == [
        "EIP712_NAME: ProtocolParams.sol has 'mlrollup2', protocol/params.py 'mlrollup'"
    ]
    missing = source.replace("uint256 constant MAX_FEE_PRICE", "// uint256 constant MAX_FEE_PRICE")
    assert mismatches(missing) == ["MAX_FEE_PRICE is in protocol/params.py but not in ProtocolParams.sol"]


def test_no_other_solidity_file_copies_a_protocol_constant() -> None:
    names = python_constants().keys()
    copies = [
        f"{path.relative_to(SRC)}: {name}"
        for path in sorted(SRC.rglob("*.sol"))
        if path != TWIN
        for name in re.findall(r"\bconstant\s+(\w+)\s*=", path.read_text())
        if name in names or name.removesuffix("_HASH") in names
    ]
    assert copies == [], "import these from ProtocolParams.sol instead"
