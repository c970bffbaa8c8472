"""JSON-ready forms of protocol objects (hex strings for bytes), for vectors and APIs."""

from __future__ import annotations

from typing import Any

from protocol.deposits import Deposit
from protocol.smt import SmtProof
from protocol.witness import BatchHeaderCommitment, StateAccess, StepWitness, TxInclusion


def hx(data: bytes) -> str:
    """`0x`-prefixed lower-case hex."""
    return "0x" + data.hex()


def unhx(text: str) -> bytes:
    """Inverse of `hx`."""
    return bytes.fromhex(text.removeprefix("0x"))


def witness_to_json(w: StepWitness) -> dict[str, Any]:
    """A witness as JSON: every byte string hex, SMT proofs in their compact encoding."""
    return {
        "step_index": w.step_index,
        "header": {
            "version": w.header.version,
            "timestamp": w.header.timestamp,
            "tx_count": w.header.tx_count,
            "tx_root": hx(w.header.tx_root),
            "data_hash": hx(w.header.data_hash),
        },
        "deposit_count": w.deposit_count,
        "pre_root": hx(w.pre_root),
        "pre_cursor": w.pre_cursor,
        "pre_job": None if w.pre_job is None else hx(w.pre_job),
        "deposit": None
        if w.deposit is None
        else {
            "index": w.deposit.index,
            "recipient": hx(w.deposit.recipient),
            "amount": str(w.deposit.amount),
        },
        "tx": None
        if w.tx is None
        else {"raw": hx(w.tx.raw), "index": w.tx.index, "proof": [hx(p) for p in w.tx.proof]},
        "weights": None if w.weights is None else list(w.weights),
        "accesses": [
            {
                "key": hx(a.key),
                "value": None if a.value is None else hx(a.value),
                "proof": hx(a.proof.encode()),
            }
            for a in w.accesses
        ],
    }


def witness_from_json(d: dict[str, Any]) -> StepWitness:
    """Inverse of `witness_to_json`."""
    h = d["header"]
    dep = d["deposit"]
    tx = d["tx"]
    return StepWitness(
        step_index=d["step_index"],
        header=BatchHeaderCommitment(h["version"], h["timestamp"], h["tx_count"], unhx(h["tx_root"])),
        deposit_count=d["deposit_count"],
        pre_root=unhx(d["pre_root"]),
        pre_cursor=d["pre_cursor"],
        pre_job=None if d["pre_job"] is None else unhx(d["pre_job"]),
        deposit=None if dep is None else Deposit(dep["index"], unhx(dep["recipient"]), int(dep["amount"])),
        tx=None
        if tx is None
        else TxInclusion(unhx(tx["raw"]), tx["index"], tuple(unhx(p) for p in tx["proof"])),
        weights=None if d["weights"] is None else tuple(d["weights"]),
        accesses=tuple(
            StateAccess(
                unhx(a["key"]),
                None if a["value"] is None else unhx(a["value"]),
                SmtProof.decode(unhx(a["proof"])),
            )
            for a in d["accesses"]
        ),
    )
