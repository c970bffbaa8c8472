"""A workload through the sequencer that reaches every step the fault drills target: a transfer and a
withdrawal, a shared model trained, a competition whose test set is scored in three chunks, and its
finalization. Driven with `Sequencer.submit` and `BlockBuilder.tick` on a clock the test moves, one
sealed batch a phase (after the funding batch 0)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from protocol.hashing import keccak
from protocol.models import Arch, validate_spec
from protocol.params import FIXED_SCALE as S
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_tx, root_of_test_set
from protocol.txrules import model_commitment
from protocol.txs import (
    CommitModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    Train,
    Transfer,
    Tx,
    Withdraw,
)
from sequencer.builder import BlockBuilder
from sequencer.mempool import Submission
from sequencer.node import Sequencer
from tests.sequencer.helpers import FakeClock, fund
from tests.support.fees import FEE_PRICE
from tests.support.paper import paper_add_data, paper_create_model
from tests.support.wallets import ETH, Wallet

TASK = 0  # the first task and model the workload creates
MODEL = 0
SAMPLES = 150  # LINREG(d=2) scores 64 samples a chunk: three chunks
EXACT, OFF = [S, S, 0], [S, S, S // 2]  # a miner's weights: y = x0 + x1 exactly, and off by S/2


@dataclass
class Workload:
    """The actors, and every tx the sequencer acknowledged (hash), in order."""

    submitter: Wallet = field(default_factory=lambda: Wallet.from_seed(30))
    miners: tuple[Wallet, Wallet] = field(
        default_factory=lambda: (Wallet.from_seed(31), Wallet.from_seed(32))
    )
    trainer: Wallet = field(default_factory=lambda: Wallet.from_seed(33))
    user: Wallet = field(default_factory=lambda: Wallet.from_seed(34))
    acknowledged: list[bytes] = field(default_factory=list)

    @property
    def wallets(self) -> list[Wallet]:
        return [self.submitter, *self.miners, self.trainer, self.user]


def run_workload(node: Sequencer, builder: BlockBuilder, clock: FakeClock) -> Workload:
    """Fund every actor (batch 0), then three phases, each executed and sealed: transfers, a
    withdrawal, a task with two commitments and a model trained; after the commit deadline, the test
    set and both models revealed (scoring); after the reveal deadline, the task finalized."""
    w = Workload()
    fund(node, builder, w.wallets)
    spec = validate_spec(Arch.LINREG, 2, 0, 0)
    rows = [[i * S, (i % 3) * S] for i in range(SAMPLES)]
    features = IntTensor.matrix(rows)
    labels = IntTensor.vector([r[0] + r[1] for r in rows])
    test_salt = keccak(b"workload test salt")
    test_commitment = commitment_to_test_set(root_of_test_set(spec, features, labels), SAMPLES, test_salt)
    salts = [keccak(b"miner salt" + bytes([i])) for i in range(2)]
    weights = [EXACT, OFF]
    now = int(clock())
    commit_deadline, reveal_deadline = now + 100, now + 200

    def submit(wallet: Wallet, make: Callable[[int], Tx]) -> None:
        (accepted,) = node.submit([Submission(wallet.sign(make, node.domain))])
        w.acknowledged.append(accepted.hash)

    sub, (m1, m2), trainer, user = w.submitter, w.miners, w.trainer, w.user
    submit(user, lambda n: Transfer(n, m1.address, ETH, max_fee_price=FEE_PRICE))
    submit(user, lambda n: Withdraw(n, b"\x42" * 20, 2 * ETH, max_fee_price=FEE_PRICE))
    submit(
        sub,
        lambda n: CreateTask(
            n,
            Arch.LINREG,
            2,
            0,
            0,
            10 * ETH,
            commit_deadline,
            reveal_deadline,
            test_commitment,
            keccak(b"ref"),
            max_fee_price=FEE_PRICE,
        ),
    )
    for miner, salt, ws in zip((m1, m2), salts, weights, strict=True):
        commitment = model_commitment(TASK, miner.address, weights_hash(ws), salt)
        submit(miner, partial(CommitModel, task_id=TASK, commitment=commitment, max_fee_price=FEE_PRICE))
    submit(trainer, paper_create_model)
    submit(trainer, lambda n: paper_add_data(n, MODEL, 4))
    submit(trainer, lambda n: Train(n, MODEL, 3, max_fee_price=FEE_PRICE))
    _build(builder)

    clock.advance(100)
    submit(sub, lambda n: reveal_tx(spec, TASK, test_salt, features, labels, n, max_fee_price=FEE_PRICE))
    for miner, salt, ws in zip((m1, m2), salts, weights, strict=True):
        submit(
            miner,
            partial(
                RevealModel, task_id=TASK, salt=salt, weights=IntTensor.vector(ws), max_fee_price=FEE_PRICE
            ),
        )
    _build(builder)

    clock.advance(100)
    submit(user, lambda n: FinalizeTask(n, TASK, max_fee_price=FEE_PRICE))
    submit(m1, lambda n: Transfer(n, user.address, 1, max_fee_price=FEE_PRICE))
    _build(builder)
    return w


def _build(builder: BlockBuilder) -> None:
    """Execute every pending tx, then seal the batch (a faulted block has sealed its own already)."""
    while builder.tick() is not None:
        pass
    builder.seal()
