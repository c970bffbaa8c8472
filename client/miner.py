"""Helpers for miners and task submitters: float weights to the protocol's fixed point, the
commitments, the exact score the rollup will give, and a tiny float-torch trainer.

Fixed point (docs/spec.md section 7): a real v is round(v · FIXED_SCALE) in [-ELEMENT_MAX,
ELEMENT_MAX]; features, LINREG labels and weights alike, so a float model z = x·W + b scores on L2
as tdiv(X·W, S) + b on the quantized values. The weights are flat in the spec's layout: LINREG and
LOGREG `[w_1..w_d, b]`, MLP `W1 (d×h, row-major) ‖ b1 (h) ‖ W2 (h×c) ‖ b2 (c)`.

`local_score` runs the rollup's own kernels (`protocol.kernels.score_chunk` over the stored chunks
of the test set, then `final_score`), so it equals the score of the rollup bit for bit.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from client import models
from client.txs import TensorLike, address_bytes
from protocol import kernels
from protocol.models import Arch, ModelSpec
from protocol.params import ELEMENT_MAX, FIXED_SCALE, SHARED_SCALE
from protocol.records import decode_rows
from protocol.tensors import IntTensor, as_tensor, weights_hash
from protocol.testset import chunks_of_test_set, commitment_to_test_set, root_of_test_set
from protocol.txrules import model_commitment

# --- specs, salts and commitments -------------------------------------------------------------


def new_salt() -> bytes:
    """32 random bytes: keep them to reveal with."""
    return secrets.token_bytes(32)


def commitment(task_id: int, miner: str | bytes, weights: TensorLike, salt: bytes) -> bytes:
    """What a miner commits to before the deadline: `H(taskId ‖ miner ‖ weightsHash ‖ salt)`. It binds
    the miner's address, so copying another miner's commitment cannot reveal (and gains nothing)."""
    return model_commitment(task_id, address_bytes(miner), weights_hash(as_tensor(weights)), salt)


def test_set_commitment(spec: ModelSpec, features: TensorLike, labels: TensorLike, salt: bytes) -> bytes:
    """What a submitter puts in CreateTask for its hidden test set."""
    x, y = as_tensor(features), as_tensor(labels)
    return commitment_to_test_set(root_of_test_set(spec, x, y), y.shape[0], salt)


# --- fixed point ------------------------------------------------------------------------------


def quantize(values: Tensor) -> IntTensor:
    """round(v · FIXED_SCALE) half away from zero, clamped to the protocol's bound (the protocol's
    own `kernels.quantize`), as a rank-1 or rank-2 `IntTensor`."""
    return IntTensor.from_torch(kernels.quantize(values.detach(), FIXED_SCALE, ELEMENT_MAX))


def quantize_labels(spec: ModelSpec, labels: Tensor) -> IntTensor:
    """LINREG labels are values (quantized); LOGREG and MLP labels are classes (kept as ints)."""
    if spec.arch == Arch.LINREG:
        return quantize(labels)
    return IntTensor.vector(int(v) for v in labels.tolist())


def flatten(spec: ModelSpec, params: Sequence[Tensor]) -> Tensor:
    """The flat float weights in the spec's layout from the trainer's tensors: `(w (d,), b ())` for
    LINREG and LOGREG, `(W1 (d,h), b1 (h,), W2 (h,c), b2 (c,))` for an MLP (x @ W, not nn.Linear's
    transposed (out, in))."""
    d, h, c = spec.inputs, spec.hidden, spec.outputs
    shapes = [(d,), ()] if spec.arch != Arch.MLP else [(d, h), (h,), (h, c), (c,)]
    got = [tuple(p.shape) for p in params]
    if got != shapes:
        raise ValueError(f"{spec.arch.name} takes tensors of shapes {shapes}, got {got}")
    flat = torch.cat([p.detach().reshape(-1).to(torch.float64) for p in params])
    assert flat.shape == (spec.param_count,)
    return flat


def quantize_weights(spec: ModelSpec, params: Sequence[Tensor]) -> IntTensor:
    """The fixed-point weights to commit to and reveal."""
    return quantize(flatten(spec, params))


# --- the rollup's score, locally --------------------------------------------------------------


def local_score(spec: ModelSpec, weights: TensorLike, features: TensorLike, labels: TensorLike) -> int:
    """The score the rollup gives `weights` on this test set, bit for bit: the protocol's kernels
    over the test set's stored chunks, as the scoring job runs them (higher is better: minus the
    mean squared error scaled by S for LINREG and LOGREG, the correct count for an MLP)."""
    w, x, y = as_tensor(weights), as_tensor(features), as_tensor(labels)
    weights_t = w.to_torch()
    acc = 0
    for chunk in chunks_of_test_set(spec, x, y):
        table = torch.tensor(decode_rows(chunk, spec.inputs + 1), dtype=torch.int64)
        acc += kernels.score_chunk(spec, weights_t, table[:, :-1], table[:, -1])
    return kernels.final_score(spec, acc, y.shape[0])


def predict(spec: ModelSpec, weights: TensorLike, features: TensorLike) -> list[int]:
    """The rollup's predictions (LINREG values, LOGREG probabilities scaled by S, MLP classes)."""
    w, x = as_tensor(weights), as_tensor(features)
    return [int(v) for v in kernels.predict(spec, w.to_torch(), x.to_torch()).tolist()]


def predict_shared(model: models.SharedModel, xs: Sequence[Sequence[int]]) -> list[int]:
    """A shared model's predictions for integer points: tdiv(w · (1, x), 10^7), the pred of its SGD."""
    w = torch.tensor(model.weights, dtype=torch.int64)
    rows = torch.tensor([[1, *x] for x in xs], dtype=torch.int64).reshape(-1, model.n_features + 1)
    return [int(v) for v in kernels.tdiv(rows @ w, SHARED_SCALE).tolist()]


# --- a tiny float trainer ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Full-batch Adam on float64: enough for the small models the protocol scores."""

    epochs: int = 300
    learning_rate: float = 0.05
    seed: int = 0


def train(
    spec: ModelSpec, features: Tensor, labels: Tensor, config: TrainConfig | None = None
) -> list[Tensor]:
    """Float parameters (as `flatten` takes them) fitted on real-valued `features` (n, d): squared
    error for LINREG, logistic loss for LOGREG (labels 0/1), cross-entropy for an MLP (labels the
    classes). Deterministic for a seed."""
    cfg = config or TrainConfig()
    gen = torch.Generator().manual_seed(cfg.seed)
    x = features.to(torch.float64)
    d, h, c = spec.inputs, spec.hidden, spec.outputs
    if spec.arch == Arch.MLP:
        params = [
            torch.randn(d, h, generator=gen, dtype=torch.float64) / d**0.5,
            torch.zeros(h, dtype=torch.float64),
            torch.randn(h, c, generator=gen, dtype=torch.float64) / h**0.5,
            torch.zeros(c, dtype=torch.float64),
        ]
    else:
        params = [torch.zeros(d, dtype=torch.float64), torch.zeros((), dtype=torch.float64)]
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(params, lr=cfg.learning_rate)
    for _ in range(cfg.epochs):
        optimizer.zero_grad()
        _loss(spec, params, x, labels).backward()  # type: ignore[no-untyped-call]
        optimizer.step()
    return [p.detach() for p in params]


def _loss(spec: ModelSpec, params: list[Tensor], x: Tensor, y: Tensor) -> Tensor:
    if spec.arch == Arch.MLP:
        w1, b1, w2, b2 = params
        logits = torch.relu(x @ w1 + b1) @ w2 + b2
        return torch.nn.functional.cross_entropy(logits, y.to(torch.int64))
    w, b = params
    z = x @ w + b
    if spec.arch == Arch.LINREG:
        return torch.mean((z - y.to(torch.float64)) ** 2)
    return torch.nn.functional.binary_cross_entropy_with_logits(z, y.to(torch.float64))
