"""The pure on-chain twins against the L2: FixedPointML bit for bit with `protocol.reference`,
OnChainRegression with the shared-model app, OnChainCompetition with the competition (same winner,
same scores), and every custom error of the twins once."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from eth_typing import ChecksumAddress
from hypothesis import example, given
from hypothesis import strategies as st
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD

from l1_contracts.artifacts import load_artifact
from l1_contracts.twins import (
    CompetitionTwin,
    RegressionTwin,
    TwinTxFailed,
    decode_custom_error,
    revert_data,
)
from protocol import params, reference
from protocol.errors import BoundsError
from protocol.hashing import keccak, merkle_root
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.receipts import Reason
from protocol.records import TaskFlag, encode_rows
from protocol.tensors import IntTensor, canonical_i32, weights_hash
from protocol.testset import commitment_to_test_set, reveal_txs, root_of_test_set
from protocol.txrules import model_commitment
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    Train,
)
from tests.support.fees import FEE_PRICE
from tests.support.harness import Harness
from tests.support.l1 import BLOCK_GAS_LIMIT, make_w3
from tests.support.wallets import ETH, at_nonce

S = params.FIXED_SCALE
B = params.ELEMENT_MAX
PAPER_X = [0, 20, 50, 10, 70, 90, 20, 30, 10]
PAPER_Y = [70, 80, 40, 90, 20, 0, 40, 60, 90]
PAPER_W = (10 * 10**7, 2 * 10**7)
PAPER_LR = 1000
PAPER_AFTER = {1: (100262000, 3420000), 2000: (709424000, -7180000)}
# The paper's Table I, the gas of its plain Solidity contract.
PAPER_ADD_DATA_GAS = 103_299
PAPER_TRAIN_GAS = 138_433


@pytest.fixture(scope="module")
def chain() -> tuple[Web3, EthereumTester]:
    return make_w3()


@pytest.fixture(scope="module")
def harness(chain: tuple[Web3, EthereumTester]) -> Contract:
    w3, _ = chain
    artifact = load_artifact("FixedPointMLHarness")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"gas": 5_000_000}))
    assert receipt["contractAddress"] is not None
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def harness_error(harness: Contract, call: Callable[[], Any]) -> str:
    """The custom error a reverting harness call raises."""
    with pytest.raises(Exception) as info:  # eth-tester's TransactionFailed or web3's
        call()
    data = revert_data(info.value)
    decoded = decode_custom_error(harness.abi, data) if data else None
    assert decoded is not None, info.value
    return decoded[0]


# --- FixedPointML against protocol.reference ------------------------------------------------------

INT256 = st.integers(-(2**255) + 1, 2**255 - 1)
EXTREMES = [-B, -B + 1, -S, -1, 0, 1, S, B - 1, B]
BOUNDED = st.one_of(st.sampled_from(EXTREMES), st.integers(-B, B))
SMALL = st.integers(-4 * S, 4 * S)


def values(n: int, elements: st.SearchStrategy[int] = BOUNDED) -> st.SearchStrategy[list[int]]:
    return st.lists(elements, min_size=n, max_size=n)


@given(a=INT256, b=INT256.filter(lambda v: v != 0))
@example(a=-7, b=2)
@example(a=7, b=-2)
@example(a=-7, b=-2)
@example(a=-(2**62), b=S)
def test_tdiv_truncates_toward_zero(harness: Contract, a: int, b: int) -> None:
    assert harness.functions.tdiv(a, b).call() == reference.tdiv(a, b)


@given(v=INT256, lo=INT256, hi=INT256)
def test_clamp(harness: Contract, v: int, lo: int, hi: int) -> None:
    assert harness.functions.clamp(v, lo, hi).call() == reference.clamp(v, lo, hi)


SIGMOID_BREAKS = [0, S, 7 * S // 3, 5 * S, B]  # the segments meet at S, 7S/3 and saturate at 5S


@given(
    z=st.one_of(
        st.builds(
            lambda p, d, s: s * (p + d),
            st.sampled_from(SIGMOID_BREAKS),
            st.integers(-3, 3),
            st.sampled_from([1, -1]),
        ),
        st.integers(-B, B),
        st.integers(-(2**62), 2**62),
    )
)
def test_sigmoid_around_its_breakpoints(harness: Contract, z: int) -> None:
    assert harness.functions.sigmoid(z).call() == reference.sigmoid_plan(z, S)


@given(z=st.lists(st.integers(-2, 2), min_size=1, max_size=8))
def test_argmax_first_max_wins(harness: Contract, z: list[int]) -> None:
    assert harness.functions.argmax(z).call() == reference.argmax_rows([z])[0]


@st.composite
def layer_case(draw: st.DrawFn) -> tuple[int, int, int, int, list[int], list[int]]:
    n, i, o, w_off = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 5)),
        draw(st.integers(1, 4)),
        draw(st.integers(0, 2)),
    )
    x = draw(values(n * i))
    w = draw(values(w_off + i * o + o))
    return n, i, o, w_off, x, w


@given(case=layer_case())
def test_layer(harness: Contract, case: tuple[int, int, int, int, list[int], list[int]]) -> None:
    n, i, o, w_off, x, w = case
    rows = [x[r * i : (r + 1) * i] for r in range(n)]
    W = [[w[w_off + k * o + c] for c in range(o)] for k in range(i)]
    b = w[w_off + i * o : w_off + i * o + o]
    expected = [v for row in reference.layer(rows, W, b, S, B) for v in row]
    assert harness.functions.layer(x, n, i, w, w_off, o).call() == expected


@st.composite
def model_case(draw: st.DrawFn) -> tuple[ModelSpec, list[int], list[list[int]], list[int]]:
    """A small spec, weights and samples mixing extremes (saturation, ties) and small values."""
    arch = draw(st.sampled_from(list(Arch)))
    d = draw(st.integers(1, 4))
    h, c = (draw(st.integers(1, 4)), draw(st.integers(2, 4))) if arch == Arch.MLP else (0, 0)
    spec = validate_spec(arch, d, h, c)
    elements = draw(st.sampled_from([BOUNDED, SMALL]))
    w = draw(values(spec.param_count, elements))
    n = draw(st.integers(1, 4))
    x = [draw(values(d, elements)) for _ in range(n)]
    labels = {Arch.LINREG: BOUNDED, Arch.LOGREG: st.integers(0, 1)}.get(arch, st.integers(0, c - 1))
    return spec, w, x, draw(values(n, labels))


@given(case=model_case())
def test_predict_and_score(
    harness: Contract, case: tuple[ModelSpec, list[int], list[list[int]], list[int]]
) -> None:
    spec, w, x, y = case
    dims = (spec.arch, spec.inputs, spec.hidden, spec.outputs)
    flat = [v for row in x for v in row]
    assert harness.functions.predict(*dims, w, flat).call() == reference.predict(spec, w, x)
    acc = reference.score_chunk(spec, w, x, y)
    assert harness.functions.scoreSum(*dims, w, flat, y).call() == [
        acc,
        reference.final_score(spec, acc, len(y)),
    ]
    rows = encode_rows([(*row, label) for row, label in zip(x, y, strict=True)])
    assert harness.functions.scoreRows(*dims, w, rows).call() == [acc, len(y)]


@given(v=st.lists(st.integers(-(2**31), 2**31 - 1), max_size=12))
def test_i32_packing_and_weights_hash(harness: Contract, v: list[int]) -> None:
    packed = harness.functions.packI32(v).call()
    assert packed == canonical_i32(v)
    assert harness.functions.weightsHash(v).call() == weights_hash(v)
    if v:
        assert harness.functions.readI32(packed, len(v) - 1).call() == v[-1]


@pytest.mark.parametrize("n", range(10))
def test_list_root(harness: Contract, n: int) -> None:
    leaves = [keccak(bytes([i])) for i in range(n)]
    assert harness.functions.listRoot(leaves).call() == merkle_root(leaves)


@pytest.mark.parametrize(
    ("dims", "n"),
    [
        ((Arch.LINREG, 3, 0, 0), 1),
        ((Arch.LINREG, 1, 0, 0), 130),
        ((Arch.MLP, 4, 1000, 2), 5),
        ((Arch.MLP, 3, 2, 2), 7),
    ],
)
def test_test_root_matches_the_protocol(harness: Contract, dims: tuple[int, int, int, int], n: int) -> None:
    spec = validate_spec(*dims)
    rng = random.Random(n)
    features = IntTensor.matrix([[rng.randint(-B, B) for _ in range(spec.inputs)] for _ in range(n)])
    labels = IntTensor.vector([rng.randint(0, 1) for _ in range(n)])
    rows = encode_rows([(*row, lab) for row, lab in zip(features.rows(), labels.values, strict=True)])
    assert harness.functions.testRoot(*dims, rows).call() == root_of_test_set(spec, features, labels)


@st.composite
def sgd_case(draw: st.DrawFn) -> tuple[list[int], int, list[list[int]], list[int]]:
    f = draw(st.integers(1, 3))
    big = draw(st.booleans())  # large values make the err and weight clamps bind
    xb = params.SHARED_X_MAX if big else 100
    wb = params.SHARED_W_MAX if big else 10**9
    w = draw(values(f + 1, st.integers(-wb, wb)))
    lr = draw(st.sampled_from([0, 1, 1000, params.SHARED_LR_MAX]))
    n = draw(st.integers(1, 5))
    xs = [draw(values(f, st.integers(-xb, xb))) for _ in range(n)]
    return w, lr, xs, draw(values(n, st.integers(-xb, xb)))


@given(case=sgd_case())
def test_shared_sgd(harness: Contract, case: tuple[list[int], int, list[list[int]], list[int]]) -> None:
    w, lr, xs, ys = case
    expected = reference.shared_sgd(w, lr, xs, ys)
    assert harness.functions.sharedSgd(w, lr, [v for x in xs for v in x], ys).call() == expected
    if len(w) == 2:
        assert harness.functions.sharedSgd1(w[0], w[1], lr, [x[0] for x in xs], ys).call() == expected


SPEC_CASES: list[tuple[tuple[int, int, int, int], str | None]] = [
    ((Arch.LINREG, 2, 0, 0), None),
    ((Arch.LOGREG, 4096, 0, 0), None),
    ((Arch.MLP, 64, 32, 10), None),
    ((Arch.MLP, 1, 1, 64), None),
    ((0, 2, 0, 0), "UnknownArch"),
    ((4, 2, 0, 0), "UnknownArch"),
    ((Arch.LINREG, 0, 0, 0), "InputsOutOfRange"),
    ((Arch.LOGREG, 4097, 0, 0), "InputsOutOfRange"),
    ((Arch.LINREG, 2, 3, 0), "HiddenOutputsNotZero"),
    ((Arch.LOGREG, 2, 0, 1), "HiddenOutputsNotZero"),
    ((Arch.MLP, 2, 0, 2), "HiddenOutOfRange"),
    ((Arch.MLP, 2, 4097, 2), "HiddenOutOfRange"),
    ((Arch.MLP, 64, 32, 1), "OutputsOutOfRange"),
    ((Arch.MLP, 2, 2, 65), "OutputsOutOfRange"),
    ((Arch.MLP, 4096, 4096, 10), "TooManyMacs"),
    ((Arch.MLP, 1, 4096, 2), "TooManyParams"),
]


@pytest.mark.parametrize(("dims", "error"), SPEC_CASES)
def test_validate_spec_matches_the_registry(
    harness: Contract, dims: tuple[int, int, int, int], error: str | None
) -> None:
    if error is None:
        spec = validate_spec(*dims)
        expected = [spec.param_count, spec.macs_per_sample, spec.chunk_size]
        assert harness.functions.validateSpec(*dims).call() == expected
        return
    with pytest.raises(BoundsError):
        validate_spec(*dims)
    assert harness_error(harness, harness.functions.validateSpec(*dims).call) == error


def test_kernel_input_errors(harness: Contract) -> None:
    lin = (Arch.LINREG, 1, 0, 0)
    assert harness_error(harness, harness.functions.predict(*lin, [B + 1, 0], [1]).call) == "ValueOutOfBounds"
    assert (
        harness_error(harness, harness.functions.predict(*lin, [0, 0], [-B - 1]).call) == "ValueOutOfBounds"
    )
    assert harness_error(harness, harness.functions.predict(*lin, [0], [1]).call) == "ShapeMismatch"
    bad_label = harness.functions.scoreSum(Arch.LOGREG, 1, 0, 0, [0, 0], [1], [2]).call
    assert harness_error(harness, bad_label) == "InvalidLabel"
    mlp_label = harness.functions.scoreSum(Arch.MLP, 1, 1, 2, [0] * 6, [1], [2]).call
    assert harness_error(harness, mlp_label) == "InvalidLabel"
    lr = params.SHARED_LR_MAX + 1
    assert (
        harness_error(harness, harness.functions.sharedSgd([0, 0], lr, [1], [1]).call)
        == "LearningRateTooHigh"
    )


# --- OnChainRegression against the L2 shared model -------------------------------------------------


def l2_shared_model(
    weights: Sequence[int], lr: int, xs: Sequence[int], ys: Sequence[int], epochs: Sequence[int]
) -> list[tuple[int, ...]]:
    """The L2 shared-model app through apply_batch: the weights after each cumulative epoch count."""
    h = Harness()
    owner = h.wallets[0]
    created = h.expect(
        owner.sign(lambda n: CreateModel(n, 1, lr, IntTensor.vector(weights), max_fee_price=FEE_PRICE)),
        Reason.OK,
    )
    model_id = created.created_id
    assert model_id is not None
    add = partial(
        AddData,
        model_id=model_id,
        xs=IntTensor.matrix([[x] for x in xs]),
        ys=IntTensor.vector(ys),
        max_fee_price=FEE_PRICE,
    )
    h.expect(owner.sign(add), Reason.OK)
    out, done = [], 0
    for target in epochs:
        h.expect(
            owner.sign(partial(Train, model_id=model_id, epochs=target - done, max_fee_price=FEE_PRICE)),
            Reason.OK,
        )
        done = target
        model = h.state.model(model_id)
        assert model is not None and model.epochs_trained == done
        out.append(model.weights)
    return out


def l1_regression(
    w3: Web3, weights: Sequence[int], lr: int, xs: Sequence[int], ys: Sequence[int], epochs: Sequence[int]
) -> tuple[RegressionTwin, list[tuple[int, ...]], list[int], list[int]]:
    """OnChainRegression trained on the points: the weights after each cumulative epoch count, and
    the gas of each addData and train."""
    twin, _ = RegressionTwin.deploy(w3, weights[0], weights[1], lr)
    add_gas = [twin.add_data(x, y).gas_used for x, y in zip(xs, ys, strict=True)]
    out: list[tuple[int, ...]] = []
    train_gas: list[int] = []
    done = 0
    for target in epochs:
        for _ in range(target - done):
            train_gas.append(twin.train().gas_used)
        done = target
        out.append(twin.weights())
    assert twin.epochs_trained() == done and twin.point_count() == len(xs)
    return twin, out, add_gas, train_gas


def test_regression_twin_reaches_the_l2_weights_on_the_paper_workload(
    chain: tuple[Web3, EthereumTester],
) -> None:
    w3, _ = chain
    epochs = [1, 20]
    _, l1, add_gas, train_gas = l1_regression(w3, PAPER_W, PAPER_LR, PAPER_X, PAPER_Y, epochs)
    l2 = l2_shared_model(PAPER_W, PAPER_LR, PAPER_X, PAPER_Y, epochs)
    xs = [[x] for x in PAPER_X]
    assert l1 == l2 == [tuple(reference.shared_sgd(PAPER_W, PAPER_LR, xs * e, PAPER_Y * e)) for e in epochs]
    assert l1[0] == PAPER_AFTER[1]
    # the twin is cheaper than the paper's contract, with the same arithmetic as the L2
    assert max(add_gas) < PAPER_ADD_DATA_GAS and max(train_gas) < PAPER_TRAIN_GAS


def test_regression_twin_with_binding_clamps(chain: tuple[Web3, EthereumTester]) -> None:
    w3, _ = chain
    rng = random.Random(7)
    xm = params.SHARED_X_MAX
    xs = [rng.choice([xm, -xm, rng.randint(-xm, xm)]) for _ in range(12)]
    ys = [rng.choice([xm, -xm, rng.randint(-xm, xm)]) for _ in range(12)]
    w = (params.SHARED_W_MAX, -params.SHARED_W_MAX)
    _, l1, _, _ = l1_regression(w3, w, params.SHARED_LR_MAX, xs, ys, [1, 3])
    assert l1 == l2_shared_model(w, params.SHARED_LR_MAX, xs, ys, [1, 3])
    assert params.SHARED_W_MAX in [abs(v) for v in l1[0]]  # a weight clamp bound


@pytest.mark.slow
def test_regression_twin_2000_epochs(chain: tuple[Web3, EthereumTester]) -> None:
    w3, _ = chain
    _, l1, _, train_gas = l1_regression(w3, PAPER_W, PAPER_LR, PAPER_X, PAPER_Y, [1, 2000])
    assert l1 == [PAPER_AFTER[1], PAPER_AFTER[2000]]
    assert l1 == l2_shared_model(PAPER_W, PAPER_LR, PAPER_X, PAPER_Y, [1, 2000])
    assert len(train_gas) == 2000


def test_regression_twin_errors(chain: tuple[Web3, EthereumTester]) -> None:
    w3, _ = chain
    expect_error("LearningRateTooHigh", lambda: RegressionTwin.deploy(w3, 0, 0, params.SHARED_LR_MAX + 1))
    expect_error("ValueOutOfBounds", lambda: RegressionTwin.deploy(w3, params.SHARED_W_MAX + 1, 0, 1))
    expect_error("ValueOutOfBounds", lambda: RegressionTwin.deploy(w3, 0, -params.SHARED_W_MAX - 1, 1))
    twin, _ = RegressionTwin.deploy(w3, 0, 0, 1)
    with pytest.raises(TwinTxFailed) as failed:
        twin.train()
    assert failed.value.error == "NoData"
    with pytest.raises(TwinTxFailed) as failed:
        twin.add_data(params.SHARED_X_MAX + 1, 0)
    assert failed.value.error == "ValueOutOfBounds" and failed.value.error_args[1] == params.SHARED_X_MAX + 1
    with pytest.raises(TwinTxFailed) as failed:
        twin.add_data(0, -params.SHARED_X_MAX - 1)
    assert failed.value.error == "ValueOutOfBounds"
    assert twin.point_count() == 0


# --- OnChainCompetition against the L2 competition -------------------------------------------------


@dataclass(frozen=True)
class Round:
    """A competition: the task, its test set, and each miner's weights in commit order."""

    dims: tuple[int, int, int, int]
    features: list[list[int]]
    labels: list[int]
    miners: list[tuple[int, list[int]]]  # (account index, weights), in commit order
    reveal_order: list[int] = field(default_factory=list)  # account indices; default reverse commit order

    @property
    def spec(self) -> ModelSpec:
        return validate_spec(*self.dims)

    @property
    def test_salt(self) -> bytes:
        return keccak(b"test salt")

    def miner_salt(self, index: int) -> bytes:
        return keccak(bytes([index]))

    def test_commitment(self) -> bytes:
        f, y = IntTensor.matrix(self.features), IntTensor.vector(self.labels)
        return commitment_to_test_set(root_of_test_set(self.spec, f, y), len(self.labels), self.test_salt)

    def reveals(self) -> list[tuple[int, list[int]]]:
        order = self.reveal_order or [i for i, _ in reversed(self.miners)]
        weights = dict(self.miners)
        return [(i, weights[i]) for i in order]


@dataclass(frozen=True)
class Outcome:
    scores: dict[int, int]  # account index -> score
    best: int | None  # account index of the best miner
    paid_to: int  # account index the reward went to
    reward: int


TRAIN_REF = keccak(b"training data")


def l2_round(r: Round, reward: int = ETH) -> Outcome:
    h = Harness()
    sub = h.wallets[0]
    create = partial(
        CreateTask,
        arch=r.dims[0],
        inputs=r.dims[1],
        hidden=r.dims[2],
        outputs=r.dims[3],
        reward=reward,
        commit_deadline=h.now + 100,
        reveal_deadline=h.now + 200,
        test_commitment=r.test_commitment(),
        train_data_ref=TRAIN_REF,
        max_fee_price=FEE_PRICE,
    )
    task_id = h.expect(sub.sign(create), Reason.OK).created_id
    assert task_id is not None
    for i, w in r.miners:
        miner = h.wallets[i]
        c = model_commitment(task_id, miner.address, weights_hash(w), r.miner_salt(i))
        h.expect(
            miner.sign(partial(CommitModel, task_id=task_id, commitment=c, max_fee_price=FEE_PRICE)),
            Reason.OK,
        )
    h.now += 100
    f, y = IntTensor.matrix(r.features), IntTensor.vector(r.labels)
    for run in reveal_txs(r.spec, task_id, r.test_salt, f, y, max_fee_price=FEE_PRICE):
        h.expect(sub.sign(at_nonce(run)), Reason.OK)
    for i, w in r.reveals():
        reveal = partial(
            RevealModel,
            task_id=task_id,
            salt=r.miner_salt(i),
            weights=IntTensor.vector(w),
            max_fee_price=FEE_PRICE,
        )
        h.expect(h.wallets[i].sign(reveal), Reason.OK)
    h.now += 100
    before = {i: h.state.account(wl.address).balance for i, wl in enumerate(h.wallets)}
    final = h.expect(
        h.wallets[5].sign(partial(FinalizeTask, task_id=task_id, max_fee_price=FEE_PRICE)), Reason.OK
    )
    after = {i: h.state.account(wl.address).balance for i, wl in enumerate(h.wallets)}
    after[5] += final.fee  # the finalizer's fee is not a payout
    (paid_to,) = [i for i in before if after[i] != before[i]]
    scores = {}
    for i, _ in r.miners:
        stored = h.state.commitment(task_id, h.wallets[i].address)
        assert stored is not None
        scores[i] = stored.score
    task = h.state.task(task_id)
    assert task is not None
    best = [i for i, wl in enumerate(h.wallets) if wl.address == task.best_miner]
    return Outcome(
        scores, best[0] if task.has(TaskFlag.HAS_BEST) else None, paid_to, after[paid_to] - before[paid_to]
    )


def accounts(w3: Web3) -> list[ChecksumAddress]:
    return list(w3.eth.accounts)


def pending_time(w3: Web3) -> int:
    return int(w3.eth.get_block("pending")["timestamp"])


def l1_round(w3: Web3, tester: EthereumTester, r: Round, *, packed: bool, reward: int = ETH) -> Outcome:
    """The same round on a fresh OnChainCompetition; with `packed`, the test set and every other
    model are revealed in the packed i32 encoding."""
    twin, _ = CompetitionTwin.deploy(w3)
    acct = accounts(w3)
    now = pending_time(w3)
    commit_at, reveal_at = now + 1_000, now + 2_000
    task_id, _ = twin.create_task(
        *r.dims, commit_at, reveal_at, r.test_commitment(), TRAIN_REF, reward=reward, sender=acct[0]
    )
    for i, w in r.miners:
        c = model_commitment(task_id, bytes.fromhex(acct[i][2:]), weights_hash(w), r.miner_salt(i))
        twin.commit(task_id, c, sender=acct[i])
    tester.time_travel(commit_at)
    twin.reveal_test_set(task_id, r.test_salt, r.features, r.labels, packed=packed, sender=acct[0])
    rows = encode_rows([(*row, y) for row, y in zip(r.features, r.labels, strict=True)])
    assert twin.test_rows(task_id) == rows
    for k, (i, w) in enumerate(r.reveals()):
        twin.reveal_model(task_id, r.miner_salt(i), w, packed=packed and k % 2 == 0, sender=acct[i])
    tester.time_travel(reveal_at)
    balances = [w3.eth.get_balance(a) for a in acct[:5]]
    res = twin.finalize(task_id, sender=acct[5])
    (event,) = twin.contract.events.TaskFinalized().process_receipt(res.receipt, errors=DISCARD)
    paid_to = acct.index(event["args"]["recipient"])
    assert w3.eth.get_balance(acct[paid_to]) == balances[paid_to] + event["args"]["amount"]
    assert w3.eth.get_balance(twin.address) == 0
    task = twin.task(task_id)
    assert task.finalized and task.n_test == len(r.labels) and task.commit_count == len(r.miners)
    scores = {}
    for i, _ in r.miners:
        score = twin.score_of(task_id, acct[i])
        assert score is not None
        scores[i] = score
    best = acct.index(task.best_miner) if task.has_best else None
    return Outcome(scores, best, paid_to, int(event["args"]["amount"]))


def random_round(seed: int, dims: tuple[int, int, int, int], n: int, *, tie: bool = False) -> Round:
    """A round with a test set from a noisy model and three miners: good, noisy, poor (or a tie)."""
    rng = random.Random(seed)
    spec = validate_spec(*dims)
    truth = [rng.randint(-S, S) for _ in range(spec.param_count)]
    features = [[rng.randint(-2 * S, 2 * S) for _ in range(spec.inputs)] for _ in range(n)]
    predicted = reference.predict(spec, truth, features)
    if spec.arch == Arch.LINREG:
        labels = [max(-B, min(B, p + rng.randint(-S // 4, S // 4))) for p in predicted]
    elif spec.arch == Arch.LOGREG:
        labels = [1 if rng.randrange(S) < p else 0 for p in predicted]
    else:
        labels = [p if rng.random() < 0.8 else rng.randrange(spec.outputs) for p in predicted]

    def noisy(scale: int) -> list[int]:
        return [max(-B, min(B, v + rng.randint(-scale, scale))) for v in truth]

    second = list(truth) if tie else noisy(S // 4)
    return Round(dims, features, labels, [(2, truth), (1, second), (3, noisy(S))])


ROUNDS = {
    "linreg": random_round(1, (Arch.LINREG, 3, 0, 0), 70),  # two chunks of 64 on the L2
    "linreg-tie": random_round(2, (Arch.LINREG, 2, 0, 0), 20, tie=True),
    "logreg": random_round(3, (Arch.LOGREG, 2, 0, 0), 30),
    "mlp": random_round(4, (Arch.MLP, 4, 5, 3), 25),
}


@pytest.mark.parametrize("packed", [False, True], ids=["abi", "packed"])
@pytest.mark.parametrize("name", list(ROUNDS))
def test_competition_twin_picks_the_l2_winner_with_the_l2_scores(
    chain: tuple[Web3, EthereumTester], name: str, packed: bool
) -> None:
    w3, tester = chain
    r = ROUNDS[name]
    l1 = l1_round(w3, tester, r, packed=packed)
    l2 = l2_round(r)
    assert l1 == l2
    assert l1.best is not None and l1.paid_to == l1.best and l1.reward == ETH
    spec = r.spec
    for i, w in r.miners:
        acc = reference.score_chunk(spec, w, r.features, r.labels)
        assert l1.scores[i] == reference.final_score(spec, acc, len(r.labels))
    if name == "linreg-tie":  # identical weights: the earlier commitment (account 2) wins
        assert l1.scores[1] == l1.scores[2] and l1.best == 2


def test_competition_without_a_scored_model_refunds_the_submitter(chain: tuple[Web3, EthereumTester]) -> None:
    w3, tester = chain
    r = ROUNDS["logreg"]
    twin, _ = CompetitionTwin.deploy(w3)
    acct = accounts(w3)
    now = pending_time(w3)
    task_id, _ = twin.create_task(
        *r.dims, now + 100, now + 200, r.test_commitment(), TRAIN_REF, reward=7, sender=acct[0]
    )
    twin.commit(task_id, keccak(b"never revealed"), sender=acct[1])
    tester.time_travel(now + 200)
    before = w3.eth.get_balance(acct[0])
    res = twin.finalize(task_id, sender=acct[4])
    (event,) = twin.contract.events.TaskFinalized().process_receipt(res.receipt, errors=DISCARD)
    assert event["args"]["recipient"] == acct[0] and not event["args"]["toWinner"]
    assert w3.eth.get_balance(acct[0]) == before + 7 and w3.eth.get_balance(twin.address) == 0
    with pytest.raises(TwinTxFailed) as failed:
        twin.finalize(task_id, sender=acct[4])
    assert failed.value.error == "AlreadyFinalized"


def test_a_refused_reward_is_credited_once(chain: tuple[Web3, EthereumTester]) -> None:
    """A winner that refuses ETH does not block finalize: its reward waits in `credits`."""
    w3, tester = chain
    twin, _ = CompetitionTwin.deploy(w3)
    artifact = load_artifact("TwinMinerHarness")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(twin.address).transact({"gas": 2_000_000})
    )
    miner = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
    r = ROUNDS["linreg-tie"]
    weights = r.miners[0][1]
    acct = accounts(w3)
    now = pending_time(w3)
    task_id, _ = twin.create_task(
        *r.dims, now + 100, now + 200, r.test_commitment(), TRAIN_REF, reward=ETH, sender=acct[0]
    )
    salt = keccak(b"contract miner")
    c = model_commitment(task_id, bytes.fromhex(miner.address[2:]), weights_hash(weights), salt)
    miner.functions.commit(task_id, c).transact({"gas": 300_000})
    tester.time_travel(now + 100)
    twin.reveal_test_set(task_id, r.test_salt, r.features, r.labels, sender=acct[0])
    tx = miner.functions.revealModel(task_id, salt, weights).transact({"gas": 2_000_000})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    assert twin.task(task_id).best_miner == miner.address
    tester.time_travel(now + 200)
    res = twin.finalize(task_id, sender=acct[3])
    (deferred,) = twin.contract.events.PaymentDeferred().process_receipt(res.receipt, errors=DISCARD)
    assert deferred["args"]["recipient"] == miner.address and twin.credits(miner.address) == ETH
    assert w3.eth.get_balance(twin.address) == ETH
    # still refusing: TransferFailed, the credit stays
    err = miner.functions.withdrawCredit().call
    assert decode_custom_error(twin.artifact.abi, revert_data(_raised(err)) or b"") == (
        "TransferFailed",
        (miner.address, ETH),
    )
    miner.functions.setAccept(True).transact({"gas": 100_000})
    assert w3.eth.wait_for_transaction_receipt(miner.functions.withdrawCredit().transact({"gas": 200_000}))[
        "status"
    ]
    assert w3.eth.get_balance(miner.address) == ETH and w3.eth.get_balance(twin.address) == 0
    assert twin.credits(miner.address) == 0
    again = revert_data(_raised(miner.functions.withdrawCredit().call)) or b""  # taken once
    assert decode_custom_error(twin.artifact.abi, again) == ("NothingToWithdraw", (miner.address,))


def _raised(call: Callable[[], Any]) -> BaseException:
    with pytest.raises(Exception) as info:
        call()
    return info.value


def expect_error(error: str, send: Callable[[], Any]) -> TwinTxFailed:
    with pytest.raises(TwinTxFailed) as failed:
        send()
    assert failed.value.error == error, failed.value
    return failed.value


@pytest.mark.parametrize(("dims", "error"), [(d, e) for d, e in SPEC_CASES if e is not None])
def test_create_task_rejects_invalid_specs(
    chain: tuple[Web3, EthereumTester], dims: tuple[int, int, int, int], error: str
) -> None:
    w3, _ = chain
    twin, _ = CompetitionTwin.deploy(w3)
    now = pending_time(w3)
    expect_error(
        error, lambda: twin.create_task(*dims, now + 100, now + 200, b"\0" * 32, b"\0" * 32, reward=1)
    )


def test_competition_errors(chain: tuple[Web3, EthereumTester]) -> None:
    """Every lifecycle error of OnChainCompetition once, in the order of the L2's check list."""
    w3, tester = chain
    twin, _ = CompetitionTwin.deploy(w3)
    acct = accounts(w3)
    sub, m1, m2, other = acct[0], acct[1], acct[2], acct[3]
    r = ROUNDS["linreg-tie"]
    dims, zero = r.dims, b"\0" * 32
    now = pending_time(w3)
    commit_at, reveal_at = now + 1_000, now + 2_000
    create = partial(
        twin.create_task, *dims, test_commitment=r.test_commitment(), train_data_ref=TRAIN_REF, sender=sub
    )
    expect_error("InvalidDeadlines", lambda: create(now - 1, reveal_at, reward=1))
    expect_error("InvalidDeadlines", lambda: create(commit_at, commit_at, reward=1))
    expect_error("ZeroReward", lambda: create(commit_at, reveal_at, reward=0))
    task_id, _ = create(commit_at, reveal_at, reward=ETH)
    weights = r.miners[0][1]
    salt = keccak(b"m1")
    good = model_commitment(task_id, bytes.fromhex(m1[2:]), weights_hash(weights), salt)
    expect_error("UnknownTask", lambda: twin.commit(task_id + 1, good, sender=m1))
    twin.commit(task_id, good, sender=m1)
    expect_error("AlreadyCommitted", lambda: twin.commit(task_id, good, sender=m1))
    twin.commit(task_id, good, sender=m2)  # a copied commitment: m2 can never open it
    reveal_test = partial(twin.reveal_test_set, task_id, r.test_salt, r.features, r.labels)
    expect_error("NotInTestRevealWindow", lambda: reveal_test(sender=sub))
    expect_error("TestSetNotRevealed", lambda: twin.reveal_model(task_id, salt, weights, sender=m1))
    tester.time_travel(commit_at)
    expect_error("CommitPhaseOver", lambda: twin.commit(task_id, good, sender=other))
    expect_error("NotSubmitter", lambda: reveal_test(sender=m1))
    f, y = r.features, r.labels
    expect_error("BadTestSetShape", lambda: twin.reveal_test_set(task_id, r.test_salt, f, y[:-1], sender=sub))
    expect_error("BadTestSetShape", lambda: twin.reveal_test_set(task_id, r.test_salt, [], [], sender=sub))
    big = [[B + 1, *row[1:]] for row in f]
    failed = expect_error(
        "ValueOutOfBounds", lambda: twin.reveal_test_set(task_id, r.test_salt, big, y, sender=sub)
    )
    assert failed.error_args == (0, B + 1, B)
    labels = [B + 1, *y[1:]]
    expect_error("InvalidLabel", lambda: twin.reveal_test_set(task_id, r.test_salt, f, labels, sender=sub))
    expect_error("TestSetMismatch", lambda: twin.reveal_test_set(task_id, zero, f, y, sender=sub))
    rows = encode_rows([(*row, lab) for row, lab in zip(f, y, strict=True)])
    packed = partial(twin.reveal_test_set_packed, task_id, r.test_salt, sender=sub, gas=3_000_000)
    expect_error("BadPackedLength", lambda: packed(rows[:-4]))
    expect_error("BadTestSetShape", lambda: packed(b""))
    big_row = (B + 1).to_bytes(4, "big", signed=True) + rows[4:]
    assert expect_error("ValueOutOfBounds", lambda: packed(big_row)).error_args == (0, B + 1, B)
    bad_label = rows[:-4] + (B + 1).to_bytes(4, "big", signed=True)
    expect_error("InvalidLabel", lambda: packed(bad_label))
    expect_error(
        "TestSetMismatch", lambda: twin.reveal_test_set(task_id, zero, f, y, packed=True, sender=sub)
    )
    reveal_test(sender=sub)
    expect_error("TestSetAlreadyRevealed", lambda: reveal_test(sender=sub))
    expect_error("NoCommitment", lambda: twin.reveal_model(task_id, salt, weights, sender=other))
    expect_error("WrongWeightCount", lambda: twin.reveal_model(task_id, salt, weights[:-1], sender=m1))
    out = [B + 1, *weights[1:]]
    expect_error("ValueOutOfBounds", lambda: twin.reveal_model(task_id, salt, out, sender=m1))
    expect_error("CommitmentMismatch", lambda: twin.reveal_model(task_id, salt, weights, sender=m2))
    packed_w = canonical_i32(weights)
    model = partial(twin.reveal_model_packed, task_id, salt, sender=m1, gas=3_000_000)
    expect_error("BadPackedLength", lambda: model(packed_w[:-1]))
    expect_error("WrongWeightCount", lambda: model(packed_w[:-4]))
    big_w = (-B - 1).to_bytes(4, "big", signed=True) + packed_w[4:]
    assert expect_error("ValueOutOfBounds", lambda: model(big_w)).error_args == (0, -B - 1, B)
    expect_error("CommitmentMismatch", lambda: model(canonical_i32([0] * len(weights))))
    expect_error("CommitmentMismatch", lambda: twin.reveal_model(task_id, zero, weights, sender=m1))
    twin.reveal_model(task_id, salt, weights, sender=m1)
    expect_error("AlreadyScored", lambda: twin.reveal_model(task_id, salt, weights, sender=m1))
    expect_error("RevealPhaseNotOver", lambda: twin.finalize(task_id, sender=other))
    tester.time_travel(reveal_at)
    expect_error("ModelRevealClosed", lambda: twin.reveal_model(task_id, salt, weights, sender=m2))
    expect_error("UnknownTask", lambda: twin.task(task_id + 1))
    twin.finalize(task_id, sender=other)
    expect_error("AlreadyFinalized", lambda: twin.finalize(task_id, sender=other))
    expect_error("NothingToWithdraw", lambda: twin.withdraw_credit(sender=other))


def test_reward_above_uint128_is_rejected() -> None:
    """L2 amounts are uint128: a richer account than the default ones sends more."""
    genesis = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": BLOCK_GAS_LIMIT})
    state = PyEVMBackend.generate_genesis_state(overrides={"balance": 2**130}, num_accounts=1)
    w3 = Web3(
        EthereumTesterProvider(EthereumTester(PyEVMBackend(genesis_parameters=genesis, genesis_state=state)))
    )
    rich = accounts(w3)[0]
    twin, _ = CompetitionTwin.deploy(w3, sender=rich)
    now = pending_time(w3)
    expect_error(
        "RewardTooLarge",
        lambda: twin.create_task(
            1, 1, 0, 0, now + 10, now + 20, b"\0" * 32, b"\0" * 32, reward=2**128, sender=rich
        ),
    )


def test_every_custom_error_of_the_twins_is_exercised() -> None:
    """Each custom error the twins' ABIs declare is named in an assertion of this module."""
    source = Path(__file__).read_text()
    for name in ("OnChainCompetition", "OnChainRegression"):
        for entry in load_artifact(name).abi:
            if entry["type"] == "error":
                assert f'"{entry["name"]}"' in source, f"{name}.{entry['name']} is never triggered"
