"""Competitions at scale: a digits task (scikit-learn's `load_digits`, 360 hidden test samples) with
1, 10, 100 and 1,000 miners, for a linear model (LINREG over the 64 pixels, the digit as value), an
MLP 64-16-10 and an MLP 64-32-10.

The rollup side runs for real at every size: CreateTask, every miner's CommitModel, the test set's
RevealTestSet txs (`protocol.testset.reveal_txs`), every miner's RevealModel (scored on all 360
samples by `apply_batch`) and FinalizeTask, in batches posted to the real Rollup on the in-process L1
(`bench.gas.l1`); its L1 gas is the receipts of those `appendBatch` and `finalize` txs. Each
miner's score must equal `client.miner.local_score`, and the task's winner the best of them.

The pure-L1 side is `OnChainCompetition` through `bench.demo_twins.measure`: one transaction stores
the whole test set and one scores a miner on all of it, so at 360 samples those transactions are
over Ethereum's 30M block gas limit. It is measured on the first `twin_sizes` test samples with 1
and 3 miners and extrapolated linearly per test sample to 360, then per miner to each size (marked);
at its largest measured size its scores and winner are checked against the rollup's on the same
samples and miners.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from bench.demo_twins import measure
from bench.fees import FEE_PRICE
from bench.gas.floors import BLOCK_GAS_LIMIT, Figure, linear
from bench.gas.l1 import InProcessL1, Keys, PostedBatch
from bench.gas.table1 import INITIAL, LEARNING_RATE
from client import digits, miner
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.paper import PAPER_X, PAPER_Y
from protocol.params import ELEMENT_MAX, FIXED_SCALE, MAX_BATCH_STEPS
from protocol.tensors import IntTensor
from protocol.testset import reveal_txs
from protocol.txs import CommitModel, CreateTask, FinalizeTask, RevealModel

MODELS: dict[str, tuple[int, int, int, int]] = {
    "linear 64": (Arch.LINREG, 64, 0, 0),
    "MLP 64-16-10": (Arch.MLP, 64, 16, 10),
    "MLP 64-32-10": (Arch.MLP, 64, 32, 10),
}
TWIN_MINERS = (1, 3)
NOISE = FIXED_SCALE // 32  # each miner's weights: the trained ones plus its own noise


@dataclass(frozen=True)
class TaskData:
    spec: ModelSpec
    features: IntTensor
    labels: IntTensor
    weights: tuple[IntTensor, ...]  # one a miner, as many as the largest size

    def first(self, n_test: int, n_miners: int) -> TaskData:
        d = self.spec.inputs
        return TaskData(
            self.spec,
            IntTensor((n_test, d), self.features.values[: n_test * d]),
            IntTensor((n_test,), self.labels.values[:n_test]),
            self.weights[:n_miners],
        )


@dataclass
class RollupRun:
    """One task on the rollup: its batches and what the state ends with."""

    miners: int
    n_test: int
    batches: list[PostedBatch]
    scores: list[int]
    winner: int  # index of the paid miner
    local_scores: list[int]

    @property
    def gas(self) -> float:
        return sum(b.gas for b in self.batches)

    @property
    def per_miner(self) -> float:
        return self.gas / self.miners

    def problems(self, model: str) -> list[str]:
        out = []
        if self.scores != self.local_scores:
            bad = sum(a != b for a, b in zip(self.scores, self.local_scores, strict=True))
            out.append(f"{model}, {self.miners} miners: {bad} rollup scores differ from local_score")
        best = max(range(self.miners), key=lambda i: (self.local_scores[i], -i))
        if self.winner != best:
            out.append(f"{model}, {self.miners} miners: the rollup paid miner {self.winner}, not {best}")
        return out


@dataclass
class TwinRun:
    """`OnChainCompetition` measured with `miners` miners, extrapolated to `n_test` samples."""

    miners: int
    sizes: tuple[int, ...]
    total: Figure  # every tx of the task at n_test samples
    reveal_test_set: Figure  # the one tx that stores the test set
    reveal_model: Figure  # one miner's scoring tx (the mean)
    scores: list[int]  # at the largest measured size


@dataclass
class ModelResult:
    name: str
    spec: ModelSpec
    rollup: list[RollupRun]
    twins: list[TwinRun]
    check: RollupRun  # the rollup on the twin's largest measured size, with the twin's miners
    twin_per_miner: dict[int, Figure] = field(default_factory=dict)

    def problems(self) -> list[str]:
        out = [p for r in self.rollup for p in r.problems(self.name)]
        twin = self.twins[-1]
        if twin.scores != self.check.scores[: twin.miners]:
            out.append(f"{self.name}: the twin scored {twin.scores}, the rollup {self.check.scores}")
        return out


@dataclass
class Competitions:
    n_test: int
    sizes: tuple[int, ...]
    twin_sizes: tuple[int, ...]
    models: list[ModelResult]
    seconds: float

    def problems(self) -> list[str]:
        return [p for m in self.models for p in m.problems()]


def task_data(name: str, n_test: int, n_miners: int, epochs: int) -> TaskData:
    """The digits split, and `n_miners` miners' weights: one model trained `epochs` epochs, plus
    each miner's own seeded noise (so that scores differ and one miner wins)."""
    spec = validate_spec(*MODELS[name])
    data = digits.load(n_test)
    train_y = data.train_y.to(torch.float64) if spec.arch == Arch.LINREG else data.train_y
    with digits.one_thread():
        params = miner.train(spec, data.train_x, train_y, miner.TrainConfig(epochs=epochs, seed=7))
    base = miner.quantize_weights(spec, params).values
    weights = []
    for i in range(n_miners):
        rng = random.Random(i)
        noisy = [max(-ELEMENT_MAX, min(ELEMENT_MAX, v + rng.randint(-NOISE, NOISE))) for v in base]
        weights.append(IntTensor.vector(noisy))
    labels = miner.quantize_labels(spec, data.test_y)
    return TaskData(spec, data.features, labels, tuple(weights))


def run_task(chain: InProcessL1, submitter: Keys, miners: Keys, data: TaskData) -> RollupRun:
    """The whole competition on the rollup, every batch posted and finalized."""
    spec, d = data.spec, chain.domain
    n = len(data.weights)
    now = chain.now()
    commit_deadline, reveal_deadline = now + 1_000, now + 2_000
    test_salt = b"\x11" * 32
    commitment = miner.test_set_commitment(spec, data.features, data.labels, test_salt)
    create = submitter.sign(
        d,
        0,
        CreateTask(
            0,
            int(spec.arch),
            spec.inputs,
            spec.hidden,
            spec.outputs,
            10**18,
            commit_deadline,
            reveal_deadline,
            commitment,
            b"\x00" * 32,
            max_fee_price=FEE_PRICE,
        ),
    )
    task_id = chain.state.meta().next_task_id  # CreateTask goes in the commits' first batch
    salts = [i.to_bytes(32, "big") for i in range(n)]
    commits = [
        miners.sign(
            d,
            i,
            CommitModel(
                0, task_id, miner.commitment(task_id, miners.address(i), w, salts[i]), max_fee_price=FEE_PRICE
            ),
        )
        for i, w in enumerate(data.weights)
    ]
    batches = chain.post([create, *commits])
    assert chain.results[-len(batches)].receipts[0].created_id == task_id
    chain.advance(commit_deadline - chain.now() + 1)
    reveal_set = [
        submitter.sign(d, 0, tx)
        for tx in reveal_txs(spec, task_id, test_salt, data.features, data.labels, max_fee_price=FEE_PRICE)
    ]
    batches += chain.post(reveal_set)
    chunks = math.ceil(data.labels.shape[0] / spec.chunk_size)
    reveals = [
        miners.sign(d, i, RevealModel(0, task_id, salts[i], w, max_fee_price=FEE_PRICE))
        for i, w in enumerate(data.weights)
    ]
    batches += chain.post(reveals, max_txs=max(1, (MAX_BATCH_STEPS - 1) // (1 + chunks)))
    chain.advance(reveal_deadline - chain.now() + 1)
    batches += chain.post([submitter.sign(d, 0, FinalizeTask(0, task_id, max_fee_price=FEE_PRICE))])
    scores = []
    for i in range(n):
        c = chain.state.commitment(task_id, miners.address(i))
        assert c is not None
        scores.append(c.score)
    task = chain.state.task(task_id)
    assert task is not None
    addresses = [miners.address(i) for i in range(n)]
    winner = addresses.index(task.best_miner) if task.best_miner in addresses else -1
    local = [miner.local_score(spec, w, data.features, data.labels) for w in data.weights]
    return RollupRun(n, data.labels.shape[0], batches, scores, winner, local)


def run_twin(data: TaskData, n_test: int, sizes: Sequence[int]) -> TwinRun:
    """`OnChainCompetition` on the first `max(sizes)` samples with `data`'s miners, extrapolated
    per sample to `n_test` (marked when `n_test` is not measured)."""
    m, top = len(data.weights), max(sizes)
    small = data.first(top, m)
    gas = measure(
        data.spec,
        small.features,
        small.labels,
        list(small.weights),
        0,
        (PAPER_X, PAPER_Y, INITIAL, LEARNING_RATE, 1),
        epochs=1,
        sizes=sizes,
    ).competition
    what = f"{m} miner(s), test samples {', '.join(map(str, gas.sizes_measured))}"
    lo = min(sizes)
    rts = linear(
        lo,
        gas.reveal_test_set - gas.store_per_sample * (top - lo),
        top,
        gas.reveal_test_set,
        n_test,
        f"revealTestSet, {what}",
    )
    rms = linear(
        lo,
        gas.reveal_models - gas.score_per_sample * (top - lo),
        top,
        gas.reveal_models,
        n_test,
        f"revealModel, {what}",
    )
    fixed = gas.create_task + gas.commits + gas.finalize
    total = Figure(fixed + rts.value + rms.value, rts.extrapolated, rts.how + "; " + rms.how)
    one = Figure(rms.value / m, rms.extrapolated, rms.how)
    assert gas.scores is not None
    return TwinRun(m, tuple(gas.sizes_measured), total, rts, one, list(gas.scores))


def run(
    sizes: Sequence[int], n_test: int, twin_sizes: Sequence[int], epochs: int, log: object = print
) -> Competitions:
    """Every model at every size on one in-process L1, and the twins."""
    started = time.monotonic()
    submitter, miners = Keys(b"gas bench submitter"), Keys(b"gas bench miner")
    # every tx pays an L2 fee (docs/spec.md section 6): the miners hold ETH for theirs
    most = max(max(sizes), TWIN_MINERS[-1])
    chain = InProcessL1({submitter.address(0): 10**30} | {miners.address(i): 10**21 for i in range(most)})
    results = []
    for name in MODELS:
        data = task_data(name, n_test, max(sizes), epochs)
        runs = []
        for n in sizes:
            t = time.monotonic()
            runs.append(run_task(chain, submitter, miners, data.first(n_test, n)))
            log(
                f"  {name}, {n} miners: {runs[-1].per_miner:,.0f} L1 gas a miner "
                f"({time.monotonic() - t:.0f} s)"
            )  # type: ignore[operator]
        twins = [run_twin(data.first(n_test, m), n_test, twin_sizes) for m in TWIN_MINERS]
        check = run_task(chain, submitter, miners, data.first(max(twin_sizes), TWIN_MINERS[-1]))
        result = ModelResult(name, data.spec, runs, twins, check)
        result.twin_per_miner = twin_per_miner(twins, sizes)
        results.append(result)
    return Competitions(n_test, tuple(sizes), tuple(twin_sizes), results, time.monotonic() - started)


def twin_per_miner(twins: Sequence[TwinRun], sizes: Sequence[int]) -> dict[int, Figure]:
    """The twin's L1 gas a miner at each size: the task's total linear in the miners through the
    two measured miner counts, divided by the miners."""
    a, b = twins[0], twins[-1]
    out = {}
    for n in sizes:
        total = linear(a.miners, a.total.value, b.miners, b.total.value, n, "miners")
        marked = total.extrapolated or a.total.extrapolated
        how = "; ".join(h for h in (a.total.how, total.how) if h)
        out[n] = Figure(total.value / n, marked, how)
    return out


def over_block_limit(result: ModelResult) -> list[str]:
    """The twin's transactions that one Ethereum block could not hold at the full test set."""
    twin = result.twins[0]
    out = []
    if twin.reveal_test_set.value > BLOCK_GAS_LIMIT:
        out.append(f"revealTestSet {twin.reveal_test_set.value / 1e6:,.1f}M gas")
    if twin.reveal_model.value > BLOCK_GAS_LIMIT:
        out.append(f"revealModel {twin.reveal_model.value / 1e6:,.1f}M gas a miner")
    return out
