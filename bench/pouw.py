"""The paper's Proof-of-Useful-Work attack (section IV.D, Figs. 1 and 2) and its remedy: escrowed rewards.

The paper's protocol (section IV.C): each round takes the next problem of the pool, every miner
trains on it, commits, and the best model on the hidden test set wins a fixed newly-minted reward.
The miners have equal power, so their test performance on a problem is modelled as independent
draws of one distribution (a Beta(8, 2) "accuracy": any continuous distribution gives the same law
of the winner). With all nodes honest each wins about 1/N of the rewards (Fig. 1). A Byzantine node
that also submits a share `b` of the problems, pre-solved (he made the test set, so his model is
perfect on it), wins all of those and 1/N of the rest: about `b + (1 - b)/N`, 60% for b = 1/2 and
five nodes (Fig. 2).

The remedy (section VI, and this rollup's rules, docs/spec.md section 6): no newly-minted reward; a
submitter escrows the reward at CreateTask and FinalizeTask pays it to the best miner. The same
draws, accounted that way: the attacker funds every one of his problems and wins his own money
back, so the attack nets exactly zero and his net gain is what any honest miner earns, 1/N of the
honest submitters' rewards; the honest submitters pay for their problems and get the trained models.

`real_round` runs one round of the attack through `protocol.transition.apply_batch`, the state
transition the sequencer runs: the attacker's account creates a task with an escrowed reward and a
test set he made, his second account commits and reveals the pre-solved model and wins, honest
miners compete with models trained on the published training data, and the balances show the
reward came back to him (his two accounts hold what they held before). With `--url` the same round
also runs against a running stack through the SDK (`bench/pouw_sdk.py`).

Run: `mlrollup simulate pouw` (writes docs/results/pouw.md and its figures, `bench/pouw_report.py`),
or `python -m bench.pouw [--quick] [--out DIR]` (prints the figures; writes the report with --out).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench.fees import FEE_PRICE, FEES
from protocol.hashing import keccak
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.receipts import Reason, Receipt
from protocol.signing import Domain, address_of, sign_tx, to_checksum_address
from protocol.state import State
from protocol.tensors import IntTensor, canonical_i32, weights_hash
from protocol.testset import reveal_txs, test_set_commitment
from protocol.transition import BatchContext, apply_batch
from protocol.txrules import model_commitment
from protocol.txs import CommitModel, CreateTask, FinalizeTask, RevealModel, Tx

BYZANTINE = 0  # the Byzantine node's index when there is one
PERFECT = 1.0  # the pre-solved model's performance on its own test set: above every draw
DOMAIN = Domain(chain_id=31337, verifying_contract=b"\x5f" * 20)
ETH = 10**18

# --- the simulation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One seeded run of the paper's protocol: who won each round and whose problem it was."""

    nodes: int
    seed: int
    byzantine_share: float
    winners: NDArray[np.int64]  # (rounds,): the index of the round's winner
    byzantine_rounds: NDArray[np.bool_]  # (rounds,): the round's problem is the Byzantine node's

    @property
    def rounds(self) -> int:
        return int(self.winners.shape[0])

    @property
    def has_byzantine(self) -> bool:
        return bool(self.byzantine_rounds.any())

    def cumulative_won(self) -> NDArray[np.int64]:
        """(rounds, nodes): rewards won by each node after each round (one reward a round)."""
        onehot = np.zeros((self.rounds, self.nodes), dtype=np.int64)
        onehot[np.arange(self.rounds), self.winners] = 1
        return np.cumsum(onehot, axis=0)

    def won(self) -> NDArray[np.int64]:
        """(nodes,): rewards won by each node over the run."""
        return np.bincount(self.winners, minlength=self.nodes).astype(np.int64)

    def shares(self) -> NDArray[np.float64]:
        """(nodes,): each node's share of all the rewards (the paper's figures)."""
        return self.won() / self.rounds

    def cumulative_funded(self) -> NDArray[np.int64]:
        """(rounds, nodes): with escrowed rewards, what each node has paid in after each round: the
        Byzantine node funds each of his problems; the honest nodes submit nothing."""
        funded = np.zeros((self.rounds, self.nodes), dtype=np.int64)
        funded[:, BYZANTINE] = np.cumsum(self.byzantine_rounds)
        return funded

    def cumulative_net(self) -> NDArray[np.int64]:
        """(rounds, nodes): with escrowed rewards, rewards won minus rewards funded."""
        return self.cumulative_won() - self.cumulative_funded()

    def funded(self) -> NDArray[np.int64]:
        """(nodes,): with escrowed rewards, the rewards each node funded over the run."""
        funded = np.zeros(self.nodes, dtype=np.int64)
        funded[BYZANTINE] = int(self.byzantine_rounds.sum())
        return funded

    def net(self) -> NDArray[np.int64]:
        """(nodes,): with escrowed rewards, each node's net gain over the run, in rewards."""
        return self.won() - self.funded()

    def attack_net(self) -> int:
        """The Byzantine node's net on his own problems with escrowed rewards: the rewards he won on
        them minus the rewards he funded for them (0 when he wins them all, which he does)."""
        own = self.byzantine_rounds
        return int((self.winners[own] == BYZANTINE).sum()) - int(own.sum())

    def cumulative_attack_net(self) -> NDArray[np.int64]:
        """(rounds,): `attack_net` after each round."""
        own = self.byzantine_rounds
        return np.cumsum(own & (self.winners == BYZANTINE)) - np.cumsum(own)

    def submitters_paid(self) -> int:
        """With escrowed rewards, the honest submitters' rewards: one for each of their problems, each
        of which buys them the best trained model of the round."""
        return int((~self.byzantine_rounds).sum())


def simulate(rounds: int, nodes: int, byzantine_share: float, seed: int) -> Run:
    """`rounds` rounds of the paper's protocol with `nodes` miners of equal power.

    The pool holds `round(byzantine_share · rounds)` problems of node 0's (the Byzantine node when
    the share is above 0), pre-solved, in random order among the others' (FIFO, one a round). Every
    miner's performance on a problem is an independent Beta(8, 2) draw; on his own problems node 0
    scores `PERFECT`. The best performance wins the round (a tie, of probability 0, to the lower
    index)."""
    if rounds < 1 or nodes < 2:
        raise ValueError(f"need at least 1 round and 2 nodes, got {rounds} rounds and {nodes} nodes")
    if not 0.0 <= byzantine_share <= 1.0:
        raise ValueError(f"the Byzantine share must lie in [0, 1], got {byzantine_share}")
    rng = np.random.default_rng(seed)
    performance = rng.beta(8.0, 2.0, size=(rounds, nodes))
    byzantine_rounds = np.zeros(rounds, dtype=np.bool_)
    byzantine_rounds[rng.choice(rounds, size=round(byzantine_share * rounds), replace=False)] = True
    performance[byzantine_rounds, BYZANTINE] = PERFECT
    winners = np.argmax(performance, axis=1).astype(np.int64)
    return Run(nodes, seed, byzantine_share, winners, byzantine_rounds)


@dataclass(frozen=True)
class Spread:
    """A figure per node over the seeds: mean, min, max and standard deviation (ddof 1)."""

    mean: NDArray[np.float64]
    min: NDArray[np.float64]
    max: NDArray[np.float64]
    std: NDArray[np.float64]

    @classmethod
    def of(cls, values: NDArray[np.float64]) -> Spread:
        """From a (seeds, nodes) array."""
        std = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1])
        return cls(values.mean(axis=0), values.min(axis=0), values.max(axis=0), std)


@dataclass(frozen=True)
class Simulation:
    """The experiment over several seeds: all honest (Fig. 1), and one Byzantine node (Fig. 2) on the
    same seeds, whose winners also give the escrowed-reward accounting."""

    rounds: int
    nodes: int
    byzantine_share: float
    honest: tuple[Run, ...]
    byzantine: tuple[Run, ...]

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(r.seed for r in self.honest)

    def honest_shares(self) -> Spread:
        return Spread.of(np.stack([r.shares() for r in self.honest]))

    def byzantine_shares(self) -> Spread:
        return Spread.of(np.stack([r.shares() for r in self.byzantine]))

    def escrow_won(self) -> Spread:
        return Spread.of(np.stack([r.won().astype(np.float64) for r in self.byzantine]))

    def escrow_funded(self) -> Spread:
        return Spread.of(np.stack([r.funded().astype(np.float64) for r in self.byzantine]))

    def escrow_net(self) -> Spread:
        return Spread.of(np.stack([r.net().astype(np.float64) for r in self.byzantine]))

    def attack_nets(self) -> list[int]:
        return [r.attack_net() for r in self.byzantine]

    def submitters_paid(self) -> list[int]:
        return [r.submitters_paid() for r in self.byzantine]

    def expected_honest_share(self) -> float:
        return 1.0 / self.nodes

    def expected_byzantine_share(self) -> float:
        """The paper's figure: his share of the problems plus a 1/N part of the rest."""
        b = self.byzantine_rounds_share()
        return b + (1.0 - b) / self.nodes

    def byzantine_rounds_share(self) -> float:
        """The share of the pool that is the Byzantine node's (the requested share, rounded to rounds)."""
        return round(self.byzantine_share * self.rounds) / self.rounds


def run_simulation(rounds: int, nodes: int, byzantine_share: float, seed: int, seeds: int) -> Simulation:
    """The honest and the Byzantine experiment on seeds `seed, seed + 1, …, seed + seeds - 1`."""
    if seeds < 1:
        raise ValueError(f"need at least one seed, got {seeds}")
    chosen = range(seed, seed + seeds)
    return Simulation(
        rounds,
        nodes,
        byzantine_share,
        tuple(simulate(rounds, nodes, 0.0, s) for s in chosen),
        tuple(simulate(rounds, nodes, byzantine_share, s) for s in chosen),
    )


# --- one round for real, through the rollup's state transition ------------------------------------


@dataclass(frozen=True)
class AccountRow:
    """One account of the real round: who it is and its balance before and after, in wei."""

    name: str
    address: str
    before: int
    after: int
    score: int | None = None  # the miner's score on the rollup (minus the MSE, scaled by S)
    fees: int = 0  # wei its txs paid in L2 fees during the round (docs/spec.md section 6)

    @property
    def change(self) -> int:
        return self.after - self.before

    @property
    def net(self) -> int:
        """The change but for the fees its txs paid: what the round's rules moved."""
        return self.change + self.fees


@dataclass(frozen=True)
class RealRound:
    """One round of the attack on the rollup's rules, as the rollup executed it (`where`)."""

    where: str
    reward: int
    spec: ModelSpec
    n_train: int
    n_test: int
    task_id: int
    accounts: tuple[AccountRow, ...]
    winner: str
    zero_reward: str  # what a CreateTask with no reward (a free problem) gives: a protocol reason
    txs: int
    steps: int
    seconds: float

    def attacker(self) -> tuple[int, int]:
        """The attacker's two accounts together: (before, after)."""
        mine = [a for a in self.accounts if a.name in (SUBMITTER, ATTACKER_MINER)]
        return sum(a.before for a in mine), sum(a.after for a in mine)

    def attacker_net(self) -> int:
        before, after = self.attacker()
        return after - before

    def attacker_fees(self) -> int:
        """The L2 fees the attacker's two accounts paid."""
        return sum(a.fees for a in self.accounts if a.name in (SUBMITTER, ATTACKER_MINER))


class _Chain:
    """A state and a clock, batches through `apply_batch`, every tx expected to succeed."""

    def __init__(self, balances: dict[bytes, int], now: int) -> None:
        self.state = State.with_balances(balances)
        self.now = now
        self.nonces: dict[bytes, int] = {}
        self.txs = 0
        self.steps = 0
        self.fees: dict[bytes, int] = {}  # by sender: the L2 fees paid

    def sign(self, key: bytes, tx: Tx) -> bytes:
        return sign_tx(DOMAIN, tx, key).encoded

    def nonce(self, key: bytes) -> int:
        return self.state.account(address_of(key)).nonce

    def run(self, raw: Sequence[bytes], expect: Reason = Reason.OK) -> list[Receipt]:
        result = apply_batch(self.state, [], raw, BatchContext(DOMAIN, FEES, self.now))
        for r in result.receipts:
            if r.reason is not expect:
                raise RuntimeError(f"tx {r.tx_index} of the batch gave {r.reason.name} ({r.detail})")
        self.state = result.post_state
        for r in result.receipts:
            if r.sender is not None:
                self.fees[r.sender] = self.fees.get(r.sender, 0) + r.fee
        self.txs += len(raw)
        self.steps += len(result.steps)
        return list(result.receipts)


def _trained_weights(
    spec: ModelSpec, x: NDArray[np.float64], y: NDArray[np.float64], rng: np.random.Generator
) -> IntTensor:
    """An honest miner's model: the project's miner trainer (client.miner.train, full-batch Adam) on a
    bootstrap resample of the published training set, quantized to the protocol's fixed point."""
    import torch

    from client.miner import TrainConfig, quantize_weights, train

    pick = rng.integers(0, x.shape[0], size=x.shape[0])
    params = train(
        spec,
        torch.tensor(x[pick]),
        torch.tensor(y[pick]),
        TrainConfig(epochs=300, learning_rate=0.05, seed=int(rng.integers(2**31))),
    )
    return quantize_weights(spec, params)


SUBMITTER = "attacker (submitter)"
ATTACKER_MINER = "attacker (miner)"


@dataclass(frozen=True)
class RoundPlan:
    """What one round of the attack is made of, the same in-process and against a running stack.

    A LINREG task (4 inputs) whose test set's labels are the attacker's secret model's exact
    predictions, a noisy training set drawn from the same model (published: its hash is the task's
    trainDataRef), each honest miner's model trained on it, and the attacker's miner's: the secret."""

    spec: ModelSpec
    n_train: int
    test_x: IntTensor
    test_y: IntTensor
    test_salt: bytes
    train_ref: bytes
    weights: dict[str, IntTensor]  # by miner, in commit order: the honest miners, then the attacker's
    salts: dict[str, bytes]

    @property
    def miners(self) -> list[str]:
        return list(self.weights)

    @property
    def names(self) -> list[str]:
        """Every account of the round: the attacker's two, then the honest miners."""
        return [SUBMITTER, ATTACKER_MINER, *(m for m in self.miners if m != ATTACKER_MINER)]

    @property
    def n_test(self) -> int:
        return self.test_y.shape[0]

    def test_commitment(self) -> bytes:
        return test_set_commitment(self.spec, self.test_x, self.test_y, self.test_salt)

    def model_commitment(self, task_id: int, miner: str, address: bytes) -> bytes:
        return model_commitment(task_id, address, weights_hash(self.weights[miner]), self.salts[miner])


def round_plan(honest_miners: int = 4, seed: int = 0) -> RoundPlan:
    """The round's data and models for `seed` (deterministic: the trainer is seeded too)."""
    import torch

    from client.miner import predict, quantize

    rng = np.random.default_rng(seed)
    spec = validate_spec(Arch.LINREG, 4, 0, 0)
    n_train, n_test = 256, 256
    secret = np.array([0.75, -1.5, 2.0, 0.5, 0.25])  # w_1..w_4, b: what the attacker knows
    x_train = rng.normal(0.0, 1.0, size=(n_train, spec.inputs))
    y_train = x_train @ secret[:-1] + secret[-1] + rng.normal(0.0, 0.5, size=n_train)
    x_test = rng.normal(0.0, 1.0, size=(n_test, spec.inputs))
    secret_w = quantize(torch.tensor(secret))
    test_x = quantize(torch.tensor(x_test))
    test_y = IntTensor.vector(predict(spec, secret_w, test_x))  # exact: the secret model's MSE is 0
    train_x, train_y = quantize(torch.tensor(x_train)), quantize(torch.tensor(y_train))
    train_ref = keccak(canonical_i32(train_x) + canonical_i32(train_y))  # the published data's hash
    weights = {
        f"honest miner {i + 1}": _trained_weights(spec, x_train, y_train, rng) for i in range(honest_miners)
    }
    weights[ATTACKER_MINER] = secret_w  # commits last, so that a tie would not go to him
    salts = {n: keccak(f"salt {seed} {n}".encode()) for n in weights}
    return RoundPlan(
        spec, n_train, test_x, test_y, keccak(b"the attacker's test salt"), train_ref, weights, salts
    )


def real_round(
    honest_miners: int = 4, seed: int = 0, reward: int = 10 * ETH, balance: int = 100 * ETH
) -> RealRound:
    """One round of the attack through `apply_batch`, on a fresh state funding every account.

    The attacker's submitter account creates the `round_plan` task with `reward` escrowed, every
    miner commits (the attacker's miner last), past the commit deadline the submitter reveals the
    test set and every miner reveals and is scored, and past the reveal deadline an honest miner
    finalizes. First it sends a CreateTask with no reward, which the rollup refuses: a problem cannot
    be free."""
    started = time.perf_counter()
    plan = round_plan(honest_miners, seed)
    spec, names, miners = plan.spec, plan.names, plan.miners
    keys = {name: keccak(f"pouw {seed} {name}".encode()) for name in names}
    addr = {name: address_of(k) for name, k in keys.items()}
    chain = _Chain({a: balance for a in addr.values()}, now=1_000)
    before = {name: chain.state.account(a).balance for name, a in addr.items()}
    sub = keys[SUBMITTER]

    def create(amount: int) -> CreateTask:
        return CreateTask(
            chain.nonce(sub),
            Arch.LINREG,
            spec.inputs,
            0,
            0,
            amount,
            chain.now + 100,
            chain.now + 200,
            plan.test_commitment(),
            plan.train_ref,
            max_fee_price=FEE_PRICE,
        )

    (refused,) = chain.run([chain.sign(sub, create(0))], expect=Reason.INVALID_PARAMS)  # nothing minted
    (created,) = chain.run([chain.sign(sub, create(reward))])
    assert created.created_id is not None
    task_id = created.created_id
    chain.run(
        [
            chain.sign(
                keys[n],
                CommitModel(
                    chain.nonce(keys[n]),
                    task_id,
                    plan.model_commitment(task_id, n, addr[n]),
                    max_fee_price=FEE_PRICE,
                ),
            )
            for n in miners
        ]
    )

    chain.now += 100  # the commit deadline: the test set is revealed, the models are scored
    reveal = reveal_txs(
        spec,
        task_id,
        plan.test_salt,
        plan.test_x,
        plan.test_y,
        nonce=chain.nonce(sub),
        max_fee_price=FEE_PRICE,
    )
    chain.run([chain.sign(sub, tx) for tx in reveal])
    chain.run(
        [
            chain.sign(
                keys[n],
                RevealModel(
                    chain.nonce(keys[n]), task_id, plan.salts[n], plan.weights[n], max_fee_price=FEE_PRICE
                ),
            )
            for n in miners
        ]
    )

    chain.now += 100  # the reveal deadline: anyone finalizes
    closer = keys[miners[0]]
    chain.run([chain.sign(closer, FinalizeTask(chain.nonce(closer), task_id, max_fee_price=FEE_PRICE))])

    task = chain.state.task(task_id)
    assert task is not None
    winner = next(n for n in names if addr[n] == task.best_miner)
    rows = []
    for n in names:
        c = chain.state.commitment(task_id, addr[n])
        rows.append(
            AccountRow(
                n,
                to_checksum_address(addr[n]),
                before[n],
                chain.state.account(addr[n]).balance,
                None if c is None else c.score,
                chain.fees.get(addr[n], 0),
            )
        )
    return RealRound(
        "in-process, through `protocol.transition.apply_batch`",
        reward,
        spec,
        plan.n_train,
        plan.n_test,
        task_id,
        tuple(rows),
        winner,
        refused.reason.name,
        chain.txs,
        chain.steps,
        time.perf_counter() - started,
    )


# --- the command ----------------------------------------------------------------------------------


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def summary_lines(sim: Simulation, rounds: Sequence[RealRound] = ()) -> list[str]:
    """The figures, as printed by the command."""
    nodes = range(sim.nodes)
    label = ["node 0 (Byzantine)" if i == BYZANTINE else f"node {i}" for i in nodes]
    lines = [
        f"{sim.nodes} nodes, {sim.rounds} rounds, seeds {sim.seeds[0]}..{sim.seeds[-1]} ({len(sim.seeds)})"
    ]
    h, b = sim.honest_shares(), sim.byzantine_shares()
    lines.append(
        f"all honest, minted reward: share of rewards (expected {_pct(sim.expected_honest_share())} each)"
    )
    for i in nodes:
        lines.append(
            f"  node {i}: mean {_pct(h.mean[i])}, min {_pct(h.min[i])}, max {_pct(h.max[i])}, "
            f"std {_pct(h.std[i])}"
        )
    lines.append(
        f"one Byzantine node submitting {_pct(sim.byzantine_rounds_share())} of the problems, minted "
        f"reward (expected {_pct(sim.expected_byzantine_share())} for him)"
    )
    for i in nodes:
        lines.append(
            f"  {label[i]}: mean {_pct(b.mean[i])}, min {_pct(b.min[i])}, max {_pct(b.max[i])}, "
            f"std {_pct(b.std[i])}"
        )
    won, funded, net = sim.escrow_won(), sim.escrow_funded(), sim.escrow_net()
    lines.append("the same attack with escrowed rewards (in rewards, mean over seeds): won - funded = net")
    for i in nodes:
        lines.append(
            f"  {label[i]}: {won.mean[i]:.1f} - {funded.mean[i]:.1f} = {net.mean[i]:+.1f} "
            f"(net min {net.min[i]:+.0f}, max {net.max[i]:+.0f}, std {net.std[i]:.1f})"
        )
    attack = sim.attack_nets()
    lines.append(
        f"  the attack itself (his own problems: won - funded): min {min(attack):+d}, max {max(attack):+d}; "
        f"honest submitters paid {np.mean(sim.submitters_paid()):.1f} rewards for as many trained models"
    )
    for real in rounds:
        lines.append(
            f"one real round {real.where.replace('`', '')}: reward {real.reward / ETH:g} ETH escrowed, "
            f"{real.txs} txs, {real.steps} steps, {real.seconds:.2f} s; winner {real.winner}; "
            f"a task with no reward: {real.zero_reward}"
        )
        for a in real.accounts:
            score = "" if a.score is None else f", score {a.score}"
            lines.append(
                f"  {a.name}: {a.before / ETH:g} -> {a.after / ETH:g} ETH ({a.change / ETH:+g}){score}"
            )
        before, after = real.attacker()
        lines.append(
            f"  the attacker's two accounts: {before / ETH:g} -> {after / ETH:g} ETH "
            f"(net {real.attacker_net() / ETH:+g})"
        )
    return lines


def round_holds(real: RealRound) -> bool:
    """What the rules promise: the attacker's miner wins, his two accounts end as they began but for
    the fees his txs paid, the honest miners' balances move by their fees alone, and a task with no
    reward is refused."""
    honest = [a for a in real.accounts if a.name not in (SUBMITTER, ATTACKER_MINER)]
    return (
        real.winner == ATTACKER_MINER
        and real.attacker_net() == -real.attacker_fees() < 0
        and all(a.net == 0 for a in honest)
        and real.zero_reward == Reason.INVALID_PARAMS.name
    )


def main(
    argv: list[str] | None = None, prog: str = "python -m bench.pouw", default_out: str | None = None
) -> int:
    """Run the experiment, print its figures, and with `--out` write the report and its plots."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000, help="rounds of the protocol (the paper's 1,000)")
    parser.add_argument("--nodes", type=int, default=5, help="miners of equal power (the paper's 5)")
    parser.add_argument(
        "--byzantine-share",
        type=float,
        default=0.5,
        help="the share of the problems the Byzantine node submits, pre-solved (the paper's 0.5)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument("--seeds", type=int, default=20, help="seeds to run, for the spread of each figure")
    parser.add_argument(
        "--out",
        default=default_out,
        help="write pouw.md and its PNG plots in this directory"
        + (f" (default {default_out})" if default_out else " (default: print only)"),
    )
    parser.add_argument("--no-real-round", action="store_true", help="skip the round run through apply_batch")
    parser.add_argument(
        "--url",
        help="also run the round against this running stack's sequencer, through the SDK "
        "(e.g. http://127.0.0.1:8000 of `mlrollup up`)",
    )
    parser.add_argument(
        "--l1-url", default="http://127.0.0.1:8545", help="with --url: the L1 endpoint (default %(default)s)"
    )
    parser.add_argument(
        "--key",
        help="with --url: an L1 key with ETH, which deposits the reward for the attacker's fresh "
        "account (default: dev account 4 of mlrollup up)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="with --url: seconds to wait at most a step"
    )
    parser.add_argument("--quick", action="store_true", help="200 rounds, 3 seeds (a smoke run, seconds)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.quick:
        args.rounds, args.seeds = 200, 3
    started = time.perf_counter()
    try:
        sim = run_simulation(args.rounds, args.nodes, args.byzantine_share, args.seed, args.seeds)
    except ValueError as e:
        parser.error(str(e))
    rounds = [] if args.no_real_round else [real_round(honest_miners=args.nodes - 1, seed=args.seed)]
    if args.url:
        from bench.pouw_sdk import default_key, sdk_round

        key = args.key or default_key()
        rounds.append(sdk_round(args.url, args.l1_url, key, args.nodes - 1, args.seed, timeout=args.timeout))
    for line in summary_lines(sim, rounds):
        print(line)
    ok = all(round_holds(r) for r in rounds)
    if args.out:
        from bench.pouw_report import write_report

        command = " ".join([prog, *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
        written = write_report(Path(args.out), sim, rounds, command, started)
        for path in written:
            print(f"wrote {path}")
    print(f"took {time.perf_counter() - started:.2f} s")
    if not ok:
        print("a real round did not go as the rules say (see its balances above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
