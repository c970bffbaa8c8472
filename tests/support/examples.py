"""One fixed tx of every type, with edge values (the largest amounts and tensor bounds), for the
exhaustive byte-level tests."""

from __future__ import annotations

from protocol.params import ELEMENT_MAX, SHARED_W_MAX, SHARED_X_MAX
from protocol.tensors import IntTensor
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    RevealTestSet,
    Train,
    Transfer,
    Tx,
    Withdraw,
)
from tests.support.fees import FEE_PRICE

# in TxType order
EXAMPLES: list[Tx] = [
    Transfer(7, b"\x11" * 20, 10**18, max_fee_price=FEE_PRICE),
    Withdraw(0, b"\x22" * 20, 2**128 - 1, max_fee_price=FEE_PRICE),
    CreateTask(1, 3, 4, 8, 3, 500, 100, 200, b"\x33" * 32, b"\x44" * 32, max_fee_price=FEE_PRICE),
    CommitModel(2, 9, b"\x55" * 32, max_fee_price=FEE_PRICE),
    RevealTestSet(
        3,
        9,
        b"\x66" * 32,
        5,
        b"\x88" * 32,
        1,
        IntTensor.matrix([[1, -2], [300, 4]]),
        IntTensor.vector([0, 1]),
        (b"\x99" * 32, b"\xaa" * 32),
        max_fee_price=FEE_PRICE,
    ),
    RevealModel(
        4, 9, b"\x77" * 32, IntTensor.vector([ELEMENT_MAX, -ELEMENT_MAX, 5]), max_fee_price=FEE_PRICE
    ),
    FinalizeTask(5, 9, max_fee_price=FEE_PRICE),
    CreateModel(6, 2, 1000, IntTensor.vector([10**8, 2 * 10**7, -SHARED_W_MAX]), max_fee_price=FEE_PRICE),
    AddData(
        7,
        0,
        IntTensor.matrix([[1, 2], [3, SHARED_X_MAX]]),
        IntTensor.vector([5, -SHARED_X_MAX]),
        max_fee_price=FEE_PRICE,
    ),
    Train(8, 0, 2000, max_fee_price=FEE_PRICE),
]
