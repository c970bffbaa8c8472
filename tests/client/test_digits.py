"""The demo's digits task: the split, the fixed point, the miners' different qualities, the padding."""

from __future__ import annotations

import pytest
import torch

from client import digits, miner
from client.digits import Strategy
from protocol.models import Arch, validate_spec
from protocol.params import FIXED_SCALE


def test_the_split_holds_out_360_samples_scaled_and_quantized() -> None:
    data = digits.load()
    assert (data.n_train, data.n_test) == (1437, 360)
    assert data.train_x.shape == (1437, 64) and data.test_x.shape == (360, 64)
    assert float(data.train_x.min()) >= 0.0 and float(data.train_x.max()) <= 1.0
    assert data.features.shape == (360, 64) and data.labels.shape == (360,)
    assert set(data.features.values) <= set(range(FIXED_SCALE + 1))
    assert sorted(set(data.labels.values)) == list(range(10))
    # stratified: every class is about a tenth of the test set
    assert all(34 <= data.labels.values.count(c) <= 38 for c in range(10))
    fewer = digits.load(250)
    assert fewer.n_test == 250 and fewer.features.values == data.features.values[: 250 * 64]
    with pytest.raises(ValueError):
        digits.load(361)


def test_padding_hidden_units_keeps_the_function() -> None:
    small = validate_spec(Arch.MLP, 64, 4, 10)
    data = digits.load(100)
    with digits.one_thread():
        params = miner.train(small, data.train_x, data.train_y, miner.TrainConfig(epochs=20))
    padded = digits.pad_hidden(params, digits.HIDDEN)
    assert [tuple(p.shape) for p in padded] == [(64, 16), (16,), (16, 10), (10,)]
    narrow = miner.quantize_weights(small, params)
    wide = miner.quantize_weights(digits.SPEC, padded)
    assert miner.predict(small, narrow, data.features) == miner.predict(digits.SPEC, wide, data.features)
    with pytest.raises(ValueError):
        digits.pad_hidden([torch.zeros(64, 20), torch.zeros(20), torch.zeros(20, 10), torch.zeros(10)], 16)


def test_the_miners_differ_in_quality() -> None:
    data = digits.load()
    scores = {
        plan.name: miner.local_score(digits.SPEC, digits.make_weights(plan, data), data.features, data.labels)
        for plan in digits.MINERS
        if plan.strategy != Strategy.COPYCAT
    }
    assert scores["ada"] > scores["cy"] > scores["ben"] > scores["dot"]
    assert scores["ada"] >= 0.9 * data.n_test and scores["dot"] <= 0.2 * data.n_test
    copycat = next(p for p in digits.MINERS if p.strategy == Strategy.COPYCAT)
    assert copycat.copies in scores
    with pytest.raises(ValueError):
        digits.make_weights(copycat, data)
