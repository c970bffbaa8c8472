"""A competition on a `Harness`: a LINREG(d=2) task with its hidden test set, and a miner's commitment."""

from __future__ import annotations

from protocol import params
from protocol.hashing import keccak
from protocol.models import Arch, validate_spec
from protocol.receipts import Reason
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, root_of_test_set
from protocol.txrules import model_commitment
from protocol.txs import CommitModel, CreateTask
from tests.support.fees import FEE_PRICE
from tests.support.harness import Harness
from tests.support.wallets import ETH

S = params.FIXED_SCALE
LINREG2 = validate_spec(Arch.LINREG, 2, 0, 0)


def linreg_task(h: Harness, *, reward: int = 10 * ETH) -> tuple[int, IntTensor, IntTensor, bytes]:
    """A LINREG(d=2) task whose test set is y = x0 + x1 (fixed point); returns its id and data."""
    spec = LINREG2
    rows = [[i * S, (i % 3) * S] for i in range(150)]  # 150 samples: three chunks of 64
    features = IntTensor.matrix(rows)
    labels = IntTensor.vector([r[0] + r[1] for r in rows])
    salt = keccak(b"submitter salt")
    commitment = commitment_to_test_set(root_of_test_set(spec, features, labels), 150, salt)
    submitter = h.wallets[0]
    receipt = h.expect(
        submitter.sign(
            lambda n: CreateTask(
                n,
                Arch.LINREG,
                2,
                0,
                0,
                reward,
                h.now + 100,
                h.now + 200,
                commitment,
                keccak(b"train"),
                max_fee_price=FEE_PRICE,
            )
        ),
        Reason.OK,
    )
    assert receipt.created_id is not None
    return receipt.created_id, features, labels, salt


def commit(h: Harness, miner_index: int, task_id: int, weights: list[int]) -> bytes:
    """Wallet `miner_index` commits to `weights` for `task_id`; returns the salt of its commitment."""
    miner = h.wallets[miner_index]
    salt = keccak(bytes([miner_index]))
    digest = weights_hash(weights)
    h.expect(
        miner.sign(
            lambda n: CommitModel(
                n, task_id, model_commitment(task_id, miner.address, digest, salt), max_fee_price=FEE_PRICE
            )
        ),
        Reason.OK,
    )
    return salt
