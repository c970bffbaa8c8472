"""The gas the work of `mlrollup demo` costs on the pure on-chain twins, on a fresh in-process
eth-tester/py-evm chain (`bench.onchain_twins.make_chain`: Prague, a 10^9 block gas limit).

The same work: `OnChainRegression` deployed with the paper's weights and learning rate, its nine
`addData` calls and 2,000 `train` calls; `OnChainCompetition` with one task of the demo's
architecture, every miner's `commit` (the copycat's copied commitment too), the test set revealed,
every honest miner's weights revealed and scored on it, and `finalize`. The test set and the
weights are the demo's own; test sets and weights go in the packed i32 encoding (the cheaper one,
and the rollup's). Each round runs on a freshly deployed twin, so that every measured createTask is
a contract's first, as the full measurement's is. Deployments are reported apart and left out of
the totals.

py-evm runs some 2-3 million gas a second, so by default parts are measured and the rest
extrapolated linearly, and every extrapolated figure says so: `train` is measured for a few
epochs (every epoch over the same nine points costs the same gas, which is checked) and multiplied
to 2,000; the competition round is measured with the first `sizes` test samples and its
`revealTestSet` and `revealModel` gas extrapolated per sample to the whole test set (the twin
would take all 360 samples in one transaction, but that transaction alone is some 70M gas, more
than an L1 block holds). `full=True` measures everything (minutes) and then also checks the twin's
weights and scores against the rollup's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eth_typing import ChecksumAddress

from client import miner
from l1_contracts.twins import CompetitionTwin, RegressionTwin
from protocol.hashing import keccak
from protocol.models import ModelSpec
from protocol.tensors import IntTensor
from service.lifeline import die_with_parent

DEFAULT_EPOCHS = 3
DEFAULT_SIZES = (8, 16)


@dataclass(frozen=True)
class RegressionTwinGas:
    """`OnChainRegression` running the paper's experiment."""

    deploy: int
    add_data: int  # the nine calls
    train_per_epoch: int
    epochs_measured: int
    epochs: int
    train: int  # all `epochs` train() calls
    weights: tuple[int, int]  # after the epochs measured
    extrapolated: bool

    @property
    def total(self) -> int:
        return self.add_data + self.train


@dataclass(frozen=True)
class CompetitionTwinGas:
    """`OnChainCompetition` running the demo's task."""

    deploy: int
    create_task: int
    commits: int  # every miner's commit
    commit_count: int
    reveal_test_set: int  # the whole test set
    reveal_models: int  # every honest miner's reveal, scored on the whole test set
    reveal_count: int
    finalize: int
    n_test: int
    sizes_measured: tuple[int, ...]
    store_per_sample: float  # revealTestSet gas a test sample
    score_per_sample: float  # revealModel gas a test sample, summed over the miners
    scores: tuple[int, ...] | None  # the twin's scores of the whole test set, when measured
    extrapolated: bool

    @property
    def total(self) -> int:
        return self.create_task + self.commits + self.reveal_test_set + self.reveal_models + self.finalize


@dataclass(frozen=True)
class TwinGas:
    regression: RegressionTwinGas
    competition: CompetitionTwinGas
    seconds: float

    @property
    def total(self) -> int:
        return self.regression.total + self.competition.total

    @property
    def extrapolated(self) -> bool:
        return self.regression.extrapolated or self.competition.extrapolated

    def as_json(self) -> dict[str, Any]:
        return {
            "regression": asdict(self.regression) | {"total": self.regression.total},
            "competition": asdict(self.competition) | {"total": self.competition.total},
            "total": self.total,
            "extrapolated": self.extrapolated,
            "seconds": round(self.seconds, 1),
        }


@dataclass(frozen=True)
class _Round:
    n: int
    create_task: int
    commits: int
    reveal_test_set: int
    reveal_models: int
    finalize: int
    scores: tuple[int, ...]


def planned_txs(
    n_miners: int, n_copycats: int, *, full: bool, epochs: int, sizes: Sequence[int], paper_epochs: int
) -> int:
    """How many twin transactions `measure` sends (for a progress bar)."""
    regression = 1 + 9 + (paper_epochs if full else epochs)
    rounds = 1 if full else len(sizes)
    return regression + rounds * (1 + 1 + n_miners + n_copycats + 1 + n_miners + 1)


def measure(
    spec: ModelSpec,
    features: IntTensor,
    labels: IntTensor,
    weights: Sequence[IntTensor],
    copycats: int,
    paper: tuple[Sequence[int], Sequence[int], tuple[int, int], int, int],
    *,
    full: bool = False,
    epochs: int = DEFAULT_EPOCHS,
    sizes: Sequence[int] = DEFAULT_SIZES,
    on_tx: Callable[[], None] = lambda: None,
) -> TwinGas:
    """The twins' gas for the demo's work. `weights`: each honest miner's, in commit order (the
    copycats commit a copy of the first one's commitment); `paper`: the regression's points xs and
    ys, initial weights, learning rate and epochs. `on_tx` is called after every transaction."""
    from bench.onchain_twins import make_chain  # eth-tester and py-evm: only where they run

    started = time.perf_counter()
    w3, tester = make_chain()
    accounts: list[ChecksumAddress] = list(w3.eth.accounts)
    if len(accounts) < 2 + len(weights) + copycats:
        raise ValueError(f"the test chain has {len(accounts)} accounts, too few for the miners")

    xs, ys, (w0, w1), learning_rate, paper_epochs = paper
    regression, deployed = RegressionTwin.deploy(w3, w0, w1, learning_rate)
    on_tx()
    adds = []
    for x, y in zip(xs, ys, strict=True):
        adds.append(regression.add_data(x, y).gas_used)
        on_tx()
    runs = paper_epochs if full else min(epochs, paper_epochs)
    trains = []
    for _ in range(runs):
        trains.append(regression.train().gas_used)
        on_tx()
    if len(set(trains)) != 1:
        raise AssertionError(f"train() gas varies between epochs: {sorted(set(trains))}")
    reg = RegressionTwinGas(
        deployed.gas_used,
        sum(adds),
        trains[0],
        runs,
        paper_epochs,
        sum(trains) if full else trains[0] * paper_epochs,
        regression.weights(),
        extrapolated=not full,
    )

    n_test = labels.shape[0]
    measured = [n_test] if full else sorted({min(s, n_test) for s in sizes})
    rounds = []
    for n in measured:  # each on a fresh twin: the demo's task is the first of its contract
        twin, twin_deployed = CompetitionTwin.deploy(w3)
        on_tx()
        rounds.append(_round(spec, twin, tester, accounts, features, labels, weights, copycats, n, on_tx))
    first, last = rounds[0], rounds[-1]
    if len(rounds) > 1:
        span = last.n - first.n
        store = (last.reveal_test_set - first.reveal_test_set) / span
        score = (last.reveal_models - first.reveal_models) / span
        reveal_test_set = round(first.reveal_test_set + store * (n_test - first.n))
        reveal_models = round(first.reveal_models + score * (n_test - first.n))
    else:
        store, score = last.reveal_test_set / last.n, last.reveal_models / last.n
        reveal_test_set, reveal_models = last.reveal_test_set, last.reveal_models
    comp = CompetitionTwinGas(
        twin_deployed.gas_used,
        last.create_task,
        last.commits,
        len(weights) + copycats,
        reveal_test_set,
        reveal_models,
        len(weights),
        last.finalize,
        n_test,
        tuple(measured),
        store,
        score,
        last.scores if last.n == n_test else None,
        extrapolated=last.n != n_test,
    )
    return TwinGas(reg, comp, time.perf_counter() - started)


def measure_to_queue(queue: Any, kwargs: dict[str, Any]) -> None:
    """`measure(**kwargs)` in a process of its own (py-evm holds the GIL for seconds, which would
    slow down every other thread of the caller): ("tx", None) on `queue` after each transaction,
    then ("done", TwinGas) or ("error", why). It ends with its parent (`mlrollup demo` killed)."""
    die_with_parent()
    try:
        result = measure(**kwargs, on_tx=lambda: queue.put(("tx", None)))
    except Exception as exc:
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
    else:
        queue.put(("done", result))


def _round(
    spec: ModelSpec,
    twin: CompetitionTwin,
    tester: Any,
    accounts: list[ChecksumAddress],
    features: IntTensor,
    labels: IntTensor,
    weights: Sequence[IntTensor],
    copycats: int,
    n: int,
    on_tx: Callable[[], None],
) -> _Round:
    """One task on the twin with the first `n` test samples: every commit and reveal, then finalize."""
    d = spec.inputs
    fx = IntTensor((n, d), features.values[: n * d])
    ly = IntTensor((n,), labels.values[:n])
    submitter, finalizer = accounts[0], accounts[-1]
    miners = accounts[1 : 1 + len(weights)]
    copiers = accounts[1 + len(weights) : 1 + len(weights) + copycats]
    salt = keccak(b"demo test set %d" % n)
    now = int(twin.w3.eth.get_block("pending")["timestamp"])
    task_id, created = twin.create_task(
        int(spec.arch),
        spec.inputs,
        spec.hidden,
        spec.outputs,
        now + 1_000,
        now + 2_000,
        miner.test_set_commitment(spec, fx, ly, salt),
        b"\x00" * 32,
        reward=10**18,
        sender=submitter,
    )
    on_tx()
    salts = [keccak(b"miner %d" % i) for i in range(len(weights))]
    commitments = [
        miner.commitment(task_id, who, w, s) for who, w, s in zip(miners, weights, salts, strict=True)
    ]
    commit_gas = 0
    for who, commitment in [*zip(miners, commitments, strict=True), *((c, commitments[0]) for c in copiers)]:
        commit_gas += twin.commit(task_id, commitment, sender=who).gas_used
        on_tx()
    tester.time_travel(now + 1_000)
    revealed = twin.reveal_test_set(task_id, salt, fx, list(ly.values), packed=True, sender=submitter)
    on_tx()
    reveal_gas = 0
    for who, w, s in zip(miners, weights, salts, strict=True):
        reveal_gas += twin.reveal_model(task_id, s, list(w.values), packed=True, sender=who).gas_used
        on_tx()
    tester.time_travel(now + 2_000)
    finalized = twin.finalize(task_id, sender=finalizer)
    on_tx()
    scores = tuple(twin.score_of(task_id, who) or 0 for who in miners)
    return _Round(n, created.gas_used, commit_gas, revealed.gas_used, reveal_gas, finalized.gas_used, scores)
