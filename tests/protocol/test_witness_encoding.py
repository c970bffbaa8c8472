"""The canonical witness bytes (docs/spec.md section 8) and NO_STEP, in Python alone."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import CodecError, WitnessError
from protocol.hashing import keccak
from protocol.transition import BatchResult
from protocol.witness import NO_STEP, StepWitness, build_witness, decode_witness, encode_witness, reexecute
from tests.support.domain import DOMAIN
from tests.support.fees import FEES
from tests.vectors.generate import scenario

JOB_KIND_OFFSET = 4 + 45 + 8 + 32 + 4


@pytest.fixture(scope="module")
def witnesses() -> list[StepWitness]:
    _, batches, _ = scenario()
    out: list[StepWitness] = []
    result: BatchResult
    for result in batches:
        out.extend(build_witness(result, s.index) for s in result.steps)
    return out


def test_round_trip_of_every_step(witnesses: list[StepWitness]) -> None:
    kinds = set()
    for w in witnesses:
        raw = encode_witness(w)
        assert decode_witness(raw) == w
        assert encode_witness(decode_witness(raw)) == raw
        kinds.add((w.pre_job or b"\x00")[:1] + bytes([w.deposit is not None, w.tx is not None]))
    assert len(kinds) >= 4  # deposits, txs, score and train chunks


def test_layout_starts_with_the_header(witnesses: list[StepWitness]) -> None:
    w = next(w for w in witnesses if w.pre_job is not None)
    raw = encode_witness(w)
    h = w.header
    assert (
        raw[4:49]
        == bytes([h.version]) + h.timestamp.to_bytes(8, "big") + h.tx_count.to_bytes(4, "big") + h.tx_root
    )
    assert keccak(raw[4:49]) == h.data_hash
    assert raw[JOB_KIND_OFFSET : JOB_KIND_OFFSET + len(w.pre_job or b"")] == w.pre_job


def test_malformed_bytes_are_rejected(witnesses: list[StepWitness]) -> None:
    raw = encode_witness(witnesses[0])
    for bad in (raw + b"\x00", raw[:-1], b"", raw[:JOB_KIND_OFFSET] + b"\x03" + raw[JOB_KIND_OFFSET + 1 :]):
        with pytest.raises(CodecError):
            decode_witness(bad)
    flag = JOB_KIND_OFFSET + 1  # the deposit's presence byte, after an absent job
    assert raw[JOB_KIND_OFFSET] == 0
    with pytest.raises(CodecError):
        decode_witness(raw[:flag] + b"\x02" + raw[flag + 1 :])


@given(cut=st.integers(0, 2_000))
def test_every_truncation_is_rejected(witnesses: list[StepWitness], cut: int) -> None:
    raw = encode_witness(witnesses[cut % len(witnesses)])
    with pytest.raises(CodecError):
        decode_witness(raw[: cut % len(raw)])


def test_no_step_of_a_finished_machine(witnesses: list[StepWitness]) -> None:
    assert keccak(b"mlrollup.no-step") == NO_STEP
    w = witnesses[-1]
    done = dataclasses.replace(
        w, pre_cursor=w.deposit_count + w.header.tx_count, pre_job=None, deposit=None, tx=None, accesses=()
    )
    result = reexecute(done, DOMAIN, FEES)
    assert result.finished and result.step_hash == NO_STEP
    assert decode_witness(encode_witness(done)) == done


def test_a_deposit_out_of_order_is_an_invalid_witness(witnesses: list[StepWitness]) -> None:
    w = next(w for w in witnesses if w.deposit is not None and w.deposit.index == 1)
    assert w.deposit is not None
    with pytest.raises(WitnessError, match="out of order"):
        reexecute(dataclasses.replace(w, deposit=dataclasses.replace(w.deposit, index=2)), DOMAIN, FEES)
