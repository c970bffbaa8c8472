"""Random steps of every kind: Solidity's `proveStep` equals Python's `reexecute`, bit for bit.

Kinds: a deposit; a tx of each of the 10 types (valid and invalid: bad signatures, wrong nonces,
unknown ids, wrong phases, hash mismatches, invalid params, over-spending, undecodable bytes); a
SCORE chunk and a TRAIN chunk with fixed-point extremes. CI runs a few examples of each
(CI_EXAMPLES, about 35 s); `make crosscheck` runs the `slow` twins with LONG_EXAMPLES each (about
29 minutes in all, docs/results.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.hashing import keccak
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, StepKind, apply_batch
from protocol.witness import build_witness
from tests.l1.prover_cases import (
    ETH,
    JobCase,
    World,
    build_world,
    fee_schedules,
    run_job_case,
    score_case,
    train_case,
    tx_case,
)
from tests.l1.prover_env import ProverEnv, run_batch
from tests.support.domain import DOMAIN
from tests.support.fees import FEES
from tests.support.wallets import Wallet

LONG_EXAMPLES = 1_000  # per step kind, under `make crosscheck`
CI_EXAMPLES = {"deposit": 20, "tx": 20, "score": 30, "train": 15, "undecodable": 30}
MAX_JOB_STEPS_CHECKED = 3  # of a long job, the first steps and the last one are checked

_HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]


def examples(kind: str, long: bool) -> settings:
    return settings(
        max_examples=LONG_EXAMPLES if long else CI_EXAMPLES[kind],
        deadline=None,
        suppress_health_check=_HEALTH,
        database=None,
    )


@pytest.fixture(scope="module")
def env() -> Iterator[ProverEnv]:
    yield ProverEnv()


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def check_steps(env: ProverEnv, result: BatchResult, deposit_start: int = 0) -> set[StepKind]:
    """Check the batch's steps (for a long job: its first steps and its last) and each tx's reason."""
    steps = list(range(len(result.steps)))
    if len(steps) > MAX_JOB_STEPS_CHECKED + 1:
        steps = [*steps[:MAX_JOB_STEPS_CHECKED], steps[-1]]
    kinds = set()
    for i in steps:
        env.check(result, i, DOMAIN, deposit_start)
        kinds.add(result.steps[i].kind)
    for receipt in result.receipts:
        witness = build_witness(result, receipt.first_step)
        assert env.tx_reason(witness, DOMAIN, result.context.fees) == receipt.reason, receipt.detail
    return kinds


# --- deposits ----------------------------------------------------------------------------------------

deposit_case = st.lists(
    st.tuples(
        st.sampled_from(
            [Wallet.from_seed(i).address for i in range(6)] + [keccak(b"new")[:20], bytes(19) + b"\x07"]
        ),
        # wallet 5 holds MAX_AMOUNT - 10 on L2, so small deposits to it saturate; the L1 sender pays
        # every deposit, so amounts stay small
        st.sampled_from([1, 5, 10, 11, ETH]) | st.integers(1, 10**20),
    ),
    min_size=1,
    max_size=3,
)


def _deposits(env: ProverEnv, world: World, deps: list[tuple[bytes, int]]) -> None:
    result, start = run_batch(env, world.state, [], DOMAIN, 1_000, deps)
    assert check_steps(env, result, start) == {StepKind.DEPOSIT}


@examples("deposit", False)
@given(deps=deposit_case)
def test_random_deposits(env: ProverEnv, world: World, deps: list[tuple[bytes, int]]) -> None:
    _deposits(env, world, deps)


@pytest.mark.slow
@examples("deposit", True)
@given(deps=deposit_case)
def test_random_deposits_long(env: ProverEnv, world: World, deps: list[tuple[bytes, int]]) -> None:
    _deposits(env, world, deps)


# --- txs -----------------------------------------------------------------------------------------------

TX_TYPES = list(range(1, 11))


def _tx(env: ProverEnv, world: World, data: st.DataObject, tx_type: int) -> None:
    raw, now = data.draw(tx_case(world, tx_type))
    fees = data.draw(fee_schedules(world))
    result = apply_batch(world.state, [], [raw], BatchContext(DOMAIN, fees, now))
    assert StepKind.TX in check_steps(env, result)


@pytest.mark.parametrize("tx_type", TX_TYPES)
@examples("tx", False)
@given(data=st.data())
def test_random_txs(env: ProverEnv, world: World, tx_type: int, data: st.DataObject) -> None:
    _tx(env, world, data, tx_type)


@pytest.mark.slow
@pytest.mark.parametrize("tx_type", TX_TYPES)
@examples("tx", True)
@given(data=st.data())
def test_random_txs_long(env: ProverEnv, world: World, tx_type: int, data: st.DataObject) -> None:
    _tx(env, world, data, tx_type)


def _undecodable(env: ProverEnv, world: World, raw: bytes) -> None:
    result = apply_batch(world.state, [], [raw], BatchContext(DOMAIN, FEES, 1_000))
    check_steps(env, result)


undecodable = st.binary(max_size=80) | st.builds(
    lambda t, body: bytes([t]) + body, st.integers(0, 12), st.binary(min_size=60, max_size=200)
)


@examples("undecodable", False)
@given(raw=undecodable)
def test_random_bytes_as_txs(env: ProverEnv, world: World, raw: bytes) -> None:
    _undecodable(env, world, raw)


@pytest.mark.slow
@examples("undecodable", True)
@given(raw=undecodable)
def test_random_bytes_as_txs_long(env: ProverEnv, world: World, raw: bytes) -> None:
    _undecodable(env, world, raw)


# --- jobs ------------------------------------------------------------------------------------------------


def _job(env: ProverEnv, case: JobCase, kind: StepKind) -> None:
    state = State.with_balances({Wallet.from_seed(i).address: 100 * ETH for i in range(6)})
    result = run_job_case(case, state)
    assert result.receipts[0].success, result.receipts[0].detail
    assert kind in check_steps(env, result)


@examples("score", False)
@given(case=score_case())
def test_random_score_chunks(env: ProverEnv, case: JobCase) -> None:
    _job(env, case, StepKind.SCORE_CHUNK)


@pytest.mark.slow
@examples("score", True)
@given(case=score_case())
def test_random_score_chunks_long(env: ProverEnv, case: JobCase) -> None:
    _job(env, case, StepKind.SCORE_CHUNK)


@examples("train", False)
@given(case=train_case())
def test_random_train_chunks(env: ProverEnv, case: JobCase) -> None:
    _job(env, case, StepKind.TRAIN_CHUNK)


@pytest.mark.slow
@examples("train", True)
@given(case=train_case())
def test_random_train_chunks_long(env: ProverEnv, case: JobCase) -> None:
    _job(env, case, StepKind.TRAIN_CHUNK)
