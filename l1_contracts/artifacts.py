"""Load the committed compiler artifacts (`l1_contracts/artifacts/<Contract>.json`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from l1_contracts.errors import L1Error

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


class ArtifactError(L1Error):
    """An artifact is missing or unreadable: rebuild with `python -m l1_contracts.build`."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A compiled contract: its ABI and creation and runtime bytecode (0x-hex)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


@cache
def load_artifact(name: str) -> Artifact:
    """The artifact of contract `name`."""
    path = ARTIFACTS / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ArtifactError(f"no artifact {path}: run `python -m l1_contracts.build`") from exc
    return Artifact(name, data["abi"], data["bytecode"], data["deployedBytecode"])
