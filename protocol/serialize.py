"""JSON-ready forms of protocol objects (hex strings for bytes), for vectors and APIs.

The readers are strict, as the byte decoders are: they take exactly what the writers produce
(lower-case `0x` hex, integers as JSON numbers, amounts as decimal strings, no other keys) and raise
`CodecError` for anything else, so `witness_to_json(witness_from_json(d)) == d` for every accepted `d`.
"""

from __future__ import annotations

import re
from typing import Any

from protocol.deposits import Deposit
from protocol.errors import CodecError, ProofError
from protocol.smt import SmtProof
from protocol.witness import BatchHeaderCommitment, StateAccess, StepWitness, TxInclusion, encode_witness

_HEX = re.compile(r"0x(?:[0-9a-f]{2})*")


def hx(data: bytes) -> str:
    """`0x`-prefixed lower-case hex."""
    return "0x" + data.hex()


def unhx(text: str) -> bytes:
    """Inverse of `hx`; `CodecError` unless `text` is `0x` and lower-case hex digit pairs."""
    if not isinstance(text, str) or not _HEX.fullmatch(text):
        raise CodecError(f"expected 0x and lower-case hex, got {str(text)[:80]!r}")
    return bytes.fromhex(text[2:])


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodecError(f"{name}: expected an integer, got {type(value).__name__}")
    return value


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


def witness_from_json(d: Any) -> StepWitness:
    """Inverse of `witness_to_json`; `CodecError` unless `d` is exactly the JSON form of a witness
    (module docstring)."""
    try:
        w = _witness_from_json(d)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ProofError) as exc:
        raise CodecError(f"not the JSON form of a witness: {type(exc).__name__}: {exc}") from None
    encode_witness(w)  # every field within its width (CodecError otherwise)
    if witness_to_json(w) != d:
        raise CodecError(
            "not the canonical JSON form of a witness: a key, a hex case or a derived hash differs"
        )
    return w


def _witness_from_json(d: dict[str, Any]) -> StepWitness:
    h = d["header"]
    dep = d["deposit"]
    tx = d["tx"]
    return StepWitness(
        step_index=_int(d["step_index"], "step_index"),
        header=BatchHeaderCommitment(
            _int(h["version"], "version"),
            _int(h["timestamp"], "timestamp"),
            _int(h["tx_count"], "tx_count"),
            unhx(h["tx_root"]),
        ),
        deposit_count=_int(d["deposit_count"], "deposit_count"),
        pre_root=unhx(d["pre_root"]),
        pre_cursor=_int(d["pre_cursor"], "pre_cursor"),
        pre_job=None if d["pre_job"] is None else unhx(d["pre_job"]),
        deposit=None
        if dep is None
        else Deposit(_int(dep["index"], "deposit.index"), unhx(dep["recipient"]), int(dep["amount"])),
        tx=None
        if tx is None
        else TxInclusion(unhx(tx["raw"]), _int(tx["index"], "tx.index"), tuple(unhx(p) for p in tx["proof"])),
        weights=None if d["weights"] is None else tuple(_int(v, "weight") for v in d["weights"]),
        accesses=tuple(
            StateAccess(
                unhx(a["key"]),
                None if a["value"] is None else unhx(a["value"]),
                SmtProof.decode(unhx(a["proof"])),
            )
            for a in d["accesses"]
        ),
    )
