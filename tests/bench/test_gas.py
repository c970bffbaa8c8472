"""The rules `mlrollup bench gas` computes its figures with (no chain: each test is milliseconds)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bench.gas.competitions import TwinRun, twin_per_miner
from bench.gas.disputes import Dispute, Disputes
from bench.gas.floors import Figure, calldata_cost, floor_7623, linear, share_by_bytes, tokens, usd
from bench.gas.where_bytes import fields_of
from protocol.signing import sign_tx
from protocol.tensors import IntTensor
from protocol.txs import AddData, Transfer
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE

KEY = (1).to_bytes(32, "big")


def test_the_floors() -> None:
    data = b"\x00\x00\x01\xff"
    assert calldata_cost(data) == 2 * 4 + 2 * 16
    assert tokens(data) == 2 * 1 + 2 * 4
    assert floor_7623(data) == 10 * tokens(data)
    assert floor_7623(b"\x01" * 100) == 4_000  # 40 gas a non-zero byte


def test_the_paper_prices() -> None:
    # Table I: 276,305,223 gas at 20 gwei and 1,742 USD an ETH is $9,626.47
    assert round(usd(276_305_223), 2) == Decimal("9626.47")
    assert round(usd(103_299), 2) == Decimal("3.60")  # the paper prints $3.59 (truncated)
    assert usd(10**9, Decimal(1), Decimal(2000)) == Decimal(2000)


def test_share_by_bytes_adds_up_and_is_proportional() -> None:
    shares = share_by_bytes(1_000_000, [100, 300, 600])
    assert shares == [100_000, 300_000, 600_000]
    assert sum(share_by_bytes(3_987_070, [113] * 989 + [96, 89])) == pytest.approx(3_987_070)
    with pytest.raises(ValueError):
        share_by_bytes(1, [])


def test_linear_extrapolation_is_linear_and_marked() -> None:
    assert linear(8, 100, 16, 180, 16, "x") == Figure(180)
    assert not linear(8, 100, 16, 180, 8, "x").extrapolated
    out = linear(8, 100, 16, 180, 360, "samples")
    assert out.extrapolated and out.value == pytest.approx(100 + 10 * 352)
    assert "samples" in out.how and out.text().endswith("*")
    with pytest.raises(ValueError):
        linear(1, 1, 1, 2, 3, "x")


def test_twin_per_miner_through_the_measured_miner_counts() -> None:
    def run(m: int, total: float) -> TwinRun:
        fig = Figure(total)
        return TwinRun(m, (8, 16), fig, fig, fig, [])

    per = twin_per_miner([run(1, 1_000 + 50), run(3, 1_000 + 150)], [1, 3, 1_000])
    assert per[1] == Figure(1_050) and per[3] == Figure(1_150 / 3)
    assert per[1_000].extrapolated and per[1_000].value == pytest.approx((1_000 + 50_000) / 1_000)


def test_fields_cover_every_byte_of_a_framed_tx() -> None:
    transfer = sign_tx(DOMAIN, Transfer(3, b"\x01" * 20, 10**15, max_fee_price=FEE_PRICE), KEY).encoded
    fields = fields_of(transfer)
    # other: to, amount, max_fee_price
    assert fields == {"signature": 65, "header": 12, "tensors": 0, "other": 20 + 16 + 8}
    assert sum(fields.values()) == 3 + len(transfer)
    add = sign_tx(
        DOMAIN, AddData(0, 0, IntTensor.matrix([[20]]), IntTensor.vector([80]), max_fee_price=FEE_PRICE), KEY
    ).encoded
    tensors = fields_of(add)["tensors"]
    assert tensors == (1 + 8 + 1 + 1) + (1 + 4 + 1 + 1)  # rank, dims, width, one 1-byte element each
    assert sum(fields_of(add).values()) == 3 + len(add)


def test_a_dispute_is_its_three_txs_and_its_checks_are_reported() -> None:
    ok = Dispute(1, "Transfer", 3, 14, 3, True, 614, 54_159, 44_434, 136_137, 121_419)
    assert ok.total == 54_159 + 44_434 + 136_137
    assert Disputes([ok], 1.0).problems() == []
    wrong_step = replace(ok, proven_step=2)
    kept = replace(ok, deleted=False)
    problems = Disputes([ok, wrong_step, kept], 1.0).problems()
    assert len(problems) == 2 and "step 2" in problems[0] and "rolled back" in problems[1]
