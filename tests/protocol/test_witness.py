"""Witnesses: every step of a varied batch re-executes from its witness alone to the same roots."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.errors import WitnessError
from protocol.serialize import witness_from_json, witness_to_json
from protocol.smt import SmtProof
from protocol.transition import BatchResult
from protocol.witness import StateAccess, build_witness, reexecute
from tests.support.domain import DOMAIN
from tests.support.fees import FEES
from tests.vectors.generate import scenario


@pytest.fixture(scope="module")
def results() -> list[BatchResult]:
    _, batches, _ = scenario()
    return batches


def test_every_step_reexecutes_from_its_witness(results: list[BatchResult]) -> None:
    kinds = set()
    for result in results:
        for step in result.steps:
            witness = build_witness(result, step.index)
            out = reexecute(witness_from_json(witness_to_json(witness)), DOMAIN, FEES)
            assert out.state_root == step.state_root
            assert out.cursor == step.machine.cursor
            assert out.step_hash == step.hash
            previous = result.steps[step.index - 1].hash if step.index else None
            if previous is not None:
                assert witness.pre_step_hash == previous
            kinds.add(step.kind)
    assert len(kinds) == 4  # deposits, txs, scoring chunks and training chunks all covered


def _first_step_with_accesses(result: BatchResult) -> int:
    return next(s.index for s in result.steps if build_witness(result, s.index).accesses)


def test_tampered_value_is_rejected(results: list[BatchResult]) -> None:
    result = results[0]
    witness = build_witness(result, _first_step_with_accesses(result))
    first = witness.accesses[0]
    forged_value = (first.value or b"") + b"\x00" if first.value is not None else b"\x00" * 24
    forged = dataclasses.replace(
        witness, accesses=(StateAccess(first.key, forged_value, first.proof), *witness.accesses[1:])
    )
    with pytest.raises(WitnessError):
        reexecute(forged, DOMAIN, FEES)


def test_tampered_proof_is_rejected(results: list[BatchResult]) -> None:
    result = results[1]  # a later batch: the state holds many leaves, so proofs have siblings
    witness = build_witness(result, 0)
    first = witness.accesses[0]
    sibs = list(first.proof.siblings)
    assert sibs
    sibs[-1] = bytes(32 - 1) + b"\x01"
    bad = StateAccess(
        first.key, first.value, SmtProof(tuple(sibs), first.proof.other_key, first.proof.other_value_hash)
    )
    with pytest.raises(WitnessError, match="rolling root"):
        reexecute(dataclasses.replace(witness, accesses=(bad, *witness.accesses[1:])), DOMAIN, FEES)


def test_missing_access_or_input_is_rejected(results: list[BatchResult]) -> None:
    result = results[0]
    witness = build_witness(result, _first_step_with_accesses(result))
    with pytest.raises(WitnessError, match="does not carry"):
        reexecute(dataclasses.replace(witness, accesses=witness.accesses[1:]), DOMAIN, FEES)
    tx_step = next(s.index for s in result.steps if build_witness(result, s.index).tx is not None)
    witness = build_witness(result, tx_step)
    assert witness.tx is not None
    with pytest.raises(WitnessError, match="tx root"):
        reexecute(
            dataclasses.replace(witness, tx=dataclasses.replace(witness.tx, raw=witness.tx.raw + b"\x00")),
            DOMAIN,
            FEES,
        )


def test_scoring_step_needs_the_committed_weights(results: list[BatchResult]) -> None:
    result = results[1]
    step = next(s.index for s in result.steps if build_witness(result, s.index).weights is not None)
    witness = build_witness(result, step)
    assert witness.weights is not None
    wrong = (witness.weights[0] + 1, *witness.weights[1:])
    with pytest.raises(WitnessError, match="weights"):
        reexecute(dataclasses.replace(witness, weights=wrong), DOMAIN, FEES)
