"""The digits task of `mlrollup demo`: scikit-learn's bundled handwritten digits, split, scaled,
quantized, and the miners who train MLPs on them.

`load_digits` ships with scikit-learn (1,797 images of 8×8 pixels, values 0-16, ten classes; nothing
is downloaded). A stratified 20% split (seed 0) holds out 360 samples as the submitter's hidden test
set; the miners train on the other 1,437. Pixels are scaled to [0, 1] for the float trainer and
quantized with `client.miner.quantize` for the rollup.

The task is an MLP 64-16-10. The miners (`MINERS`) differ in quality: one well trained, one
under-trained, one tiny (4 hidden units, padded with zero units into the task's 16: a zero unit's
ReLU is 0 and adds nothing), one lazy (its untrained random initial weights), and a copycat who
trains nothing and copies another miner's commitment.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

import torch
from torch import Tensor

from client import miner
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.tensors import IntTensor

INPUTS, HIDDEN, CLASSES = 64, 16, 10
SPEC: ModelSpec = validate_spec(Arch.MLP, INPUTS, HIDDEN, CLASSES)
TEST_FRACTION = 0.2
SPLIT_SEED = 0
PIXEL_MAX = 16.0


@dataclass(frozen=True)
class Digits:
    """The split: float tensors for training, and the held-out test set in fixed point."""

    train_x: Tensor  # (n_train, 64) float64 in [0, 1]
    train_y: Tensor  # (n_train,) int64 classes
    test_x: Tensor  # (n_test, 64) float64 in [0, 1]
    test_y: Tensor
    features: IntTensor  # test_x quantized: what the submitter reveals
    labels: IntTensor  # test_y as ints

    @property
    def n_train(self) -> int:
        return int(self.train_y.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.test_y.shape[0])


def load(test_samples: int | None = None) -> Digits:
    """The digits, split 80/20 stratified with seed 0 (360 test samples); `test_samples` keeps only
    the first that many of the 360 (the rest are left out, not trained on)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=y
    )
    if test_samples is not None:
        if not 1 <= test_samples <= len(y_test):
            raise ValueError(f"the test split has {len(y_test)} samples; asked for {test_samples}")
        x_test, y_test = x_test[:test_samples], y_test[:test_samples]
    train_x = torch.tensor(x_train, dtype=torch.float64) / PIXEL_MAX
    test_x = torch.tensor(x_test, dtype=torch.float64) / PIXEL_MAX
    train_y = torch.tensor(y_train, dtype=torch.int64)
    test_y = torch.tensor(y_test, dtype=torch.int64)
    return Digits(
        train_x, train_y, test_x, test_y, miner.quantize(test_x), miner.quantize_labels(SPEC, test_y)
    )


class Strategy(Enum):
    """How a miner makes its weights."""

    TRAINED = "trained"  # client.miner.train for `epochs` epochs with `hidden` units
    LAZY = "lazy"  # the trainer's random initial weights, never trained
    COPYCAT = "copycat"  # no weights: copies `copies`'s commitment, then its revealed weights


@dataclass(frozen=True)
class MinerPlan:
    """One miner of the demo."""

    name: str
    strategy: Strategy
    description: str
    hidden: int = HIDDEN  # hidden units it trains (padded with zero units to the task's)
    epochs: int = 0
    seed: int = 0
    copies: str | None = None


MINERS: tuple[MinerPlan, ...] = (
    MinerPlan("ada", Strategy.TRAINED, "well trained (300 epochs)", epochs=300, seed=1),
    MinerPlan("ben", Strategy.TRAINED, "under-trained (6 epochs)", epochs=6, seed=2),
    MinerPlan("cy", Strategy.TRAINED, "tiny (4 hidden units)", hidden=4, epochs=300),
    MinerPlan("dot", Strategy.LAZY, "lazy (untrained weights)", seed=4),
    MinerPlan("eve", Strategy.COPYCAT, "copycat of ada", copies="ada"),
)


def pad_hidden(params: Sequence[Tensor], hidden: int) -> list[Tensor]:
    """An MLP's `(W1, b1, W2, b2)` with zero hidden units appended up to `hidden`: the same function
    (each added unit's ReLU is 0 and its outgoing weights are 0)."""
    w1, b1, w2, b2 = params
    extra = hidden - w1.shape[1]
    if extra < 0:
        raise ValueError(f"the model has {w1.shape[1]} hidden units, more than {hidden}")
    return [
        torch.cat([w1, torch.zeros(w1.shape[0], extra, dtype=w1.dtype)], dim=1),
        torch.cat([b1, torch.zeros(extra, dtype=b1.dtype)]),
        torch.cat([w2, torch.zeros(extra, w2.shape[1], dtype=w2.dtype)], dim=0),
        b2,
    ]


def make_weights(plan: MinerPlan, digits: Digits, epoch_scale: float = 1.0) -> IntTensor:
    """The fixed-point weights `plan`'s miner commits to (not for a copycat, which has none of its
    own). `epoch_scale` shortens the training (at least one epoch)."""
    if plan.strategy == Strategy.COPYCAT:
        raise ValueError(f"{plan.name} is a copycat: it has no weights of its own")
    spec = validate_spec(Arch.MLP, INPUTS, plan.hidden, CLASSES)
    epochs = 0 if plan.strategy == Strategy.LAZY else max(1, round(plan.epochs * epoch_scale))
    with one_thread():
        params = miner.train(
            spec, digits.train_x, digits.train_y, miner.TrainConfig(epochs=epochs, seed=plan.seed)
        )
    return miner.quantize_weights(SPEC, pad_hidden(params, HIDDEN))


@contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread meanwhile: these tensors are small, and on a busy machine torch's
    intra-op threads wait for each other (training a miner took 30 times longer on two)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def accuracy(weights: IntTensor, features: IntTensor, labels: IntTensor) -> float:
    """The share of test samples the fixed-point model classes right (the rollup's predictions)."""
    predicted = miner.predict(SPEC, weights, features)
    return sum(int(p == t) for p, t in zip(predicted, labels.values, strict=True)) / len(labels.values)
