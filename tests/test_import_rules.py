"""DESIGN.md's import rules: imports only point downwards.

`protocol` imports no other project package and none of web3, fastapi, sqlalchemy; `service` (the
plumbing shared by the roles' servers) imports nothing of the project either; `l1_contracts` may
import `protocol` and `service`; `sequencer`, `verifier` and `client` never import each other; only
the composition root `mlrollup` (the CLI that dispatches to each role) and `bench` (benchmarks that
drive the whole system, the local stack of `mlrollup.up` included) import them all; `mlrollup`
imports `bench` only inside the commands that dispatch to it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"protocol", "l1_contracts", "service", "sequencer", "verifier", "client", "bench", "mlrollup"}
IO_LIBRARIES = {"web3", "fastapi", "sqlalchemy", "alembic", "httpx", "uvicorn", "eth_tester", "requests"}

ALLOWED = {
    "protocol": set(),
    "service": set(),
    "l1_contracts": {"protocol", "service"},
    "sequencer": {"protocol", "l1_contracts", "service"},
    "verifier": {"protocol", "l1_contracts", "service"},
    "client": {"protocol", "l1_contracts", "service"},
    "bench": PROJECT - {"bench"},
    "mlrollup": PROJECT - {"mlrollup"},  # the composition root: dispatches to every role
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def package_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_project_imports_point_downwards(package: str) -> None:
    for path in package_files(package):
        forbidden = (imported_top_levels(path) & PROJECT) - ALLOWED[package] - {package}
        assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_protocol_imports_no_io_library() -> None:
    for path in package_files("protocol"):
        forbidden = imported_top_levels(path) & IO_LIBRARIES
        assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_rule_checker_sees_violations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import web3\nfrom sequencer.app import x\n")
    assert imported_top_levels(bad) == {"web3", "sequencer"}
