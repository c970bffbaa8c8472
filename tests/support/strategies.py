"""Hypothesis strategies of valid protocol values: tensors of every width class and txs of every
type (signed with arbitrary signature words), biased towards the edges of each field."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from protocol.params import (
    ELEMENT_MAX,
    MAX_RANGE_PROOF,
    SHARED_LR_MAX,
    SHARED_MAX_FEATURES,
    SHARED_W_MAX,
    SHARED_X_MAX,
)
from protocol.tensors import IntTensor
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    RevealTestSet,
    SignedTx,
    Train,
    Transfer,
    Tx,
    TxType,
    Withdraw,
)

WIDTH_RANGES = {
    1: (-(2**7), 2**7 - 1),
    2: (-(2**15), 2**15 - 1),
    4: (-(2**31), 2**31 - 1),
    8: (-(2**63), 2**63 - 1),
}


def elements(bound: int, width: int) -> st.SearchStrategy[int]:
    """Elements in [-bound, bound] of (at most) `width` bytes, biased towards width edges and the bound."""
    lo, hi = WIDTH_RANGES[width]
    lo, hi = max(lo, -bound), min(hi, bound)
    edges = [v for v in (lo, hi, lo + 1, hi - 1, 0, -1) if -bound <= v <= bound]
    return st.one_of(st.sampled_from(edges), st.integers(lo, hi), st.integers(-128, 127))


@st.composite
def int_tensors(draw: st.DrawFn, rank: int, bound: int, max_rows: int = 12, max_cols: int = 9) -> IntTensor:
    """A valid tensor of `rank`, elements in [-bound, bound], mostly in one width class."""
    element = elements(bound, draw(st.sampled_from([1, 2, 4, 8])))
    if rank == 1:
        n = draw(st.integers(0, max_rows * max_cols))
        return IntTensor.vector(draw(st.lists(element, min_size=n, max_size=n)))
    rows = draw(st.integers(0, max_rows))
    cols = draw(st.integers(0, max_cols))
    flat = draw(st.lists(element, min_size=rows * cols, max_size=rows * cols))
    return IntTensor((rows, cols), tuple(flat))


addresses = st.binary(min_size=20, max_size=20)
words = st.binary(min_size=32, max_size=32)


def uints(bits: int) -> st.SearchStrategy[int]:
    top = 2**bits - 1
    return st.one_of(st.sampled_from([0, 1, top]), st.integers(0, top))


u8s, u16s, u32s, u64s, u128s = (uints(b) for b in (8, 16, 32, 64, 128))

TX_STRATEGIES: dict[TxType, st.SearchStrategy[Any]] = {
    TxType.TRANSFER: st.builds(Transfer, u64s, addresses, u128s, max_fee_price=u64s),
    TxType.WITHDRAW: st.builds(Withdraw, u64s, addresses, u128s, max_fee_price=u64s),
    TxType.CREATE_TASK: st.builds(
        CreateTask,
        u64s,
        st.integers(1, 3),
        u16s,
        u16s,
        u16s,
        u128s,
        u64s,
        u64s,
        words,
        words,
        max_fee_price=u64s,
    ),
    TxType.COMMIT_MODEL: st.builds(CommitModel, u64s, u64s, words, max_fee_price=u64s),
    TxType.REVEAL_TEST_SET: st.builds(
        RevealTestSet,
        u64s,
        u64s,
        words,
        uints(32),
        words,
        uints(32),
        int_tensors(2, ELEMENT_MAX),
        int_tensors(1, ELEMENT_MAX),
        st.lists(words, max_size=MAX_RANGE_PROOF).map(tuple),
        max_fee_price=u64s,
    ),
    TxType.REVEAL_MODEL: st.builds(
        RevealModel, u64s, u64s, words, int_tensors(1, ELEMENT_MAX), max_fee_price=u64s
    ),
    TxType.FINALIZE_TASK: st.builds(FinalizeTask, u64s, u64s, max_fee_price=u64s),
    TxType.CREATE_MODEL: st.builds(
        CreateModel,
        u64s,
        st.integers(1, SHARED_MAX_FEATURES),
        st.integers(0, SHARED_LR_MAX),
        int_tensors(1, SHARED_W_MAX, max_rows=3, max_cols=3),
        max_fee_price=u64s,
    ),
    TxType.ADD_DATA: st.builds(
        AddData, u64s, u64s, int_tensors(2, SHARED_X_MAX), int_tensors(1, SHARED_X_MAX), max_fee_price=u64s
    ),
    TxType.TRAIN: st.builds(Train, u64s, u64s, u32s, max_fee_price=u64s),
}


def txs(tx_type: TxType | None = None) -> st.SearchStrategy[Tx]:
    """A valid unsigned tx of `tx_type`, or of any type."""
    if tx_type is not None:
        return TX_STRATEGIES[tx_type]
    return st.one_of(*TX_STRATEGIES.values())


@st.composite
def signed_txs(draw: st.DrawFn, tx_type: TxType | None = None) -> SignedTx:
    """A valid tx with arbitrary (not necessarily valid) signature words."""
    tx = draw(txs(tx_type))
    return SignedTx(tx, draw(uints(256)), draw(uints(256)), draw(st.sampled_from([27, 28])))
