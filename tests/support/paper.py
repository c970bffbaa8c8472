"""The paper's shared model (`protocol.paper`) as txs: its CreateModel, an AddData of its points, both
signed by a wallet, and the model set up on a `Harness`."""

from __future__ import annotations

from protocol.paper import PAPER_INITIAL, PAPER_LEARNING_RATE, PAPER_X, PAPER_Y
from protocol.receipts import Reason
from protocol.tensors import IntTensor
from protocol.txs import AddData, CreateModel
from tests.support.fees import FEE_PRICE
from tests.support.harness import Harness
from tests.support.wallets import Wallet


def paper_create_model(nonce: int, price: int = FEE_PRICE) -> CreateModel:
    """The paper's regression: one feature, its learning rate and initial weights."""
    return CreateModel(nonce, 1, PAPER_LEARNING_RATE, IntTensor.vector(PAPER_INITIAL), max_fee_price=price)


def paper_add_data(nonce: int, model_id: int, count: int = len(PAPER_X), price: int = FEE_PRICE) -> AddData:
    """AddData of the paper's first `count` points (all nine by default) to `model_id`."""
    xs = IntTensor.matrix([[x] for x in PAPER_X[:count]])
    return AddData(nonce, model_id, xs, IntTensor.vector(PAPER_Y[:count]), max_fee_price=price)


def paper_model(h: Harness) -> int:
    """The paper's model created by wallet 0 with its nine points; returns its id."""
    owner = h.wallets[0]
    r = h.expect(owner.sign(paper_create_model), Reason.OK)
    assert r.created_id is not None
    model_id = r.created_id
    h.expect(owner.sign(lambda n: paper_add_data(n, model_id)), Reason.OK)
    return model_id


def paper_model_txs(owner: Wallet, points: int = len(PAPER_X), model_id: int = 0) -> list[bytes]:
    """The paper's CreateModel and an AddData of its first `points` points, signed by `owner` with its
    next two nonces; `model_id` is the id the model gets (the chain's first by default)."""
    return [owner.sign(paper_create_model), owner.sign(lambda n: paper_add_data(n, model_id, points))]
