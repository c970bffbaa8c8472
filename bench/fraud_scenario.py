"""The fraud game's scenario: a competition and a shared model over three batches, every step kind.

The L2 actors and data (`Competition`, signed for one deployment's domain), the batches executed by
`protocol.transition.apply_batch` (deposits from the L1 Bridge, every tx type, failed txs, scoring
chunks, training chunks, finalization), one step of each kind in a batch (`representative_steps`), and a
trace wrong at one chosen step (`tampered`). Used by `tests/l1/test_fraud_game_steps.py` and by
`bench/gas/disputes.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bench.fees import FEE_PRICE, FEES
from protocol.codec import decode_tx
from protocol.deposits import Deposit
from protocol.errors import CodecError
from protocol.fraud import honest_leaves
from protocol.hashing import keccak
from protocol.models import Arch, validate_spec
from protocol.params import FIXED_SCALE as S
from protocol.receipts import Reason
from protocol.signing import Domain, address_of, sign_tx
from protocol.state import State
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_tx, root_of_test_set
from protocol.transition import BatchContext, BatchResult, StepKind, apply_batch, step_hash
from protocol.txrules import model_commitment
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    Train,
    Transfer,
    Tx,
    Withdraw,
)

ETH = 10**18


@dataclass
class Competition:
    """The L2 actors and the ML data of the scenario, signed for one deployment's domain."""

    domain: Domain
    t0: int
    sub: bytes = keccak(b"fraud submitter")
    miner: bytes = keccak(b"fraud miner")
    trainer: bytes = keccak(b"fraud trainer")

    def __post_init__(self) -> None:
        self.spec = validate_spec(Arch.MLP, 32, 16, 4)  # 576 MACs a sample: 28 samples a chunk
        n = 60  # three scoring chunks: 28, 28, 4
        self.features = IntTensor.matrix(
            [[((i * 31 + j * 17) % 9 - 4) * S // 3 for j in range(32)] for i in range(n)]
        )
        self.labels = IntTensor.vector([i % 4 for i in range(n)])
        self.test_salt, self.model_salt = keccak(b"test salt"), keccak(b"model salt")
        self.test_commit = commitment_to_test_set(
            root_of_test_set(self.spec, self.features, self.labels), n, self.test_salt
        )
        self.weights = IntTensor.vector([(i * 7919) % (2 * S) - S for i in range(self.spec.param_count)])
        self.reveal_deadline = self.t0 + 10**6

    def addr(self, key: bytes) -> bytes:
        return address_of(key)

    def sign(self, tx: Tx, key: bytes) -> bytes:
        return sign_tx(self.domain, tx, key).encoded

    def funding(self) -> list[tuple[bytes, int]]:
        """The L1 Bridge deposits the first batch consumes: (L2 recipient, wei), in order."""
        return [
            (self.addr(key), amount)
            for key, amount in ((self.sub, 50 * ETH), (self.miner, 5 * ETH), (self.trainer, ETH))
        ]

    def batch1(self, deposits: list[Deposit]) -> BatchResult:
        """Deposits, then every tx type that needs no later time, two failures, and a training job."""
        sub, miner, trainer = self.sub, self.miner, self.trainer
        commitment = model_commitment(0, self.addr(miner), weights_hash(self.weights.values), self.model_salt)
        txs = [
            self.sign(Transfer(0, self.addr(trainer), 2 * ETH, max_fee_price=FEE_PRICE), sub),
            self.sign(
                CreateTask(
                    1,
                    Arch.MLP,
                    32,
                    16,
                    4,
                    10 * ETH,
                    self.t0 + 10,
                    self.reveal_deadline,
                    self.test_commit,
                    keccak(b"data"),
                    max_fee_price=FEE_PRICE,
                ),
                sub,
            ),
            self.sign(CommitModel(0, 0, commitment, max_fee_price=FEE_PRICE), miner),
            self.sign(
                CreateModel(0, 1, 1000, IntTensor.vector([10 * 10**7, 2 * 10**7]), max_fee_price=FEE_PRICE),
                trainer,
            ),
            self.sign(
                AddData(
                    1,
                    0,
                    IntTensor.matrix([[x] for x in (0, 20, 50, 10)]),
                    IntTensor.vector([70, 80, 40, 90]),
                    max_fee_price=FEE_PRICE,
                ),
                trainer,
            ),
            self.sign(Train(2, 0, 2, max_fee_price=FEE_PRICE), trainer),
            self.sign(Withdraw(3, self.addr(trainer), ETH // 2, max_fee_price=FEE_PRICE), trainer),
            b"\x01\x02",  # does not decode
            self.sign(
                Transfer(1, self.addr(sub), 10**30, max_fee_price=FEE_PRICE), miner
            ),  # insufficient balance
        ]
        return apply_batch(State(), deposits, txs, BatchContext(self.domain, FEES, self.t0))

    def batch2(self, state: State, ts: int) -> BatchResult:
        """After the commit deadline: the test set's and the model's reveals (three scoring chunks)."""
        txs = [
            self.sign(
                reveal_tx(
                    self.spec, 0, self.test_salt, self.features, self.labels, 2, max_fee_price=FEE_PRICE
                ),
                self.sub,
            ),
            self.sign(RevealModel(1, 0, self.model_salt, self.weights, max_fee_price=FEE_PRICE), self.miner),
        ]
        return apply_batch(state, [], txs, BatchContext(self.domain, FEES, ts))

    def batch3(self, state: State, ts: int) -> BatchResult:
        """After the reveal deadline: the task's finalization."""
        return apply_batch(
            state,
            [],
            [self.sign(FinalizeTask(4, 0, max_fee_price=FEE_PRICE), self.trainer)],
            BatchContext(self.domain, FEES, ts),
        )


def representative_steps(result: BatchResult) -> Iterator[tuple[str, int]]:
    """One step of each kind in `result` (a tx step per type and failure; first and last job chunks)."""
    seen: set[str] = set()
    receipts = {rc.first_step: rc for rc in result.receipts}
    chunks: dict[str, list[int]] = {}
    for step in result.steps:
        if step.kind is StepKind.DEPOSIT:
            name = "deposit"
        elif step.kind is StepKind.TX:
            rc = receipts[step.index]
            raw = result.txs[rc.tx_index]
            try:
                name = type(decode_tx(raw).tx).__name__
            except CodecError:
                name = "undecodable tx"
            if rc.reason is not Reason.OK:
                name += f" (fails: {rc.reason.name})"
        else:
            chunks.setdefault(
                "score chunk" if step.kind is StepKind.SCORE_CHUNK else "train chunk", []
            ).append(step.index)
            continue
        if name not in seen:
            seen.add(name)
            yield name, step.index
    for name, indices in chunks.items():
        yield f"{name} (first)", indices[0]
        if len(indices) > 1:
            yield f"{name} (last)", indices[-1]


def tampered(result: BatchResult, index: int) -> tuple[list[bytes], bytes]:
    """The honest trace with step `index` given a wrong post-state root, and the post root to post
    (the wrong root when it is the last step, so that only re-executing the step shows the fraud)."""
    leaves = honest_leaves(result)
    step = result.steps[index]
    wrong = keccak(b"wrong root" + step.state_root)
    leaves[index] = step_hash(wrong, step.machine.cursor, step.machine.job)
    post = wrong if index == len(leaves) - 1 else result.post_root
    return leaves, post
