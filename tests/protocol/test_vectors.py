"""The committed golden vectors are what the protocol produces today, and they replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocol.codec import decode_batch
from protocol.fees import FeeSchedule
from protocol.serialize import unhx, witness_from_json
from protocol.smt import SmtProof, root_after_update, verify_proof
from protocol.witness import reexecute
from tests.support.domain import DOMAIN
from tests.vectors.generate import dump, generate

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


@pytest.fixture(scope="module")
def fresh() -> dict[str, Any]:
    return generate()


@pytest.mark.parametrize(
    "name",
    ["domain.json", "txs.json", "batches.json", "smt.json", "merkle.json", "kernels.json", "deposits.json"],
)
def test_committed_vectors_are_current(fresh: dict[str, Any], name: str) -> None:
    committed = (VECTORS / name).read_text()
    assert committed == dump(fresh[name]), f"tests/vectors/{name} is stale: run `make vectors`"


def test_batch_vectors_replay_from_json() -> None:
    batches = json.loads((VECTORS / "batches.json").read_text())
    domain = json.loads((VECTORS / "domain.json").read_text())
    fees = FeeSchedule(domain["fee_price"], unhx(domain["fee_recipient"]))
    reasons = {r["reason"] for batch in batches for r in batch["receipts"]}
    # the failures the vectors cover: decode, nonce, balance, and the two fee reasons
    assert {1, 3, 4, 13, 14} <= reasons
    for batch in batches:
        header, _ = decode_batch(unhx(batch["batch_data"]))
        assert header.timestamp == batch["timestamp"]
        for step in batch["steps"]:
            out = reexecute(witness_from_json(step["witness"]), DOMAIN, fees)
            assert "0x" + out.step_hash.hex() == step["step_hash"]


def test_smt_vectors_replay_from_json() -> None:
    smt = json.loads((VECTORS / "smt.json").read_text())
    root = unhx(smt["root"])
    for p in smt["proofs"]:
        value = None if p["value"] is None else unhx(p["value"])
        assert verify_proof(root, unhx(p["key"]), value, SmtProof.decode(unhx(p["proof"])))
    for u in smt["updates"]:
        old = None if u["old"] is None else unhx(u["old"])
        proof = SmtProof.decode(unhx(u["proof"]))
        assert root_after_update(unhx(u["key"]), old, unhx(u["new"]), proof) == unhx(u["new_root"])
