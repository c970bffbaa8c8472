"""The int64 fixed-point kernels the state transition runs (docs/spec.md section 7), on torch.

Every tensor is torch.int64 and every operation is exact: products stay below 2**62 because inputs
are bounded (`check_bound`), division truncates toward zero (`tdiv`) as Solidity's int256 does, and
nothing depends on float rounding or thread count. `protocol.reference` re-implements each function
on plain Python ints; the tests hold the two equal bit for bit. The one float function, `quantize`,
is for miners turning trained float weights into fixed point; the state transition never calls it.

Solidity twins: `l1_contracts/src/libraries/MLKernels.sol` (the kernels, `check_bound`, `predict`),
`Scoring.sol` (`score_chunk`, `final_score`) and `SharedSGD.sol` (`shared_sgd`).
"""

import torch
from torch import Tensor

from protocol.errors import BoundsError
from protocol.models import Arch, ModelSpec
from protocol.params import (
    ELEMENT_MAX,
    FIXED_SCALE,
    SHARED_ERR_MAX,
    SHARED_LR_MAX,
    SHARED_MAX_FEATURES,
    SHARED_SCALE,
    SHARED_W_MAX,
    SHARED_X_MAX,
)

torch.use_deterministic_algorithms(True)

I64 = torch.int64
_SUM_BLOCK = 4_096  # squared errors are < 2**50: 4096 of them sum below 2**62


# --- elementwise and layer kernels ---------------------------------------------------------------


def tdiv(a: Tensor, d: int) -> Tensor:
    """a / d truncated toward zero (Solidity's int256 division): tdiv(-7, 2) == -3."""
    assert a.dtype == I64 and d != 0
    return torch.div(a, d, rounding_mode="trunc")


def layer(x: Tensor, W: Tensor, b: Tensor, scale: int, bound: int) -> Tensor:
    """clamp(tdiv(x @ W, scale) + b, -bound, bound): x (n, i), W (i, o), b (o,) -> (n, o).

    Exact when |x|, |W| <= ELEMENT_MAX and i <= MAX_MODEL_DIM: every partial sum is <= 2**60.
    """
    assert x.dtype == W.dtype == b.dtype == I64
    assert x.dim() == 2 and W.dim() == 2 and x.shape[1] == W.shape[0] and b.shape == (W.shape[1],)
    z = tdiv(x @ W, scale) + b  # (n, o)
    return z.clamp(-bound, bound)


def relu(z: Tensor) -> Tensor:
    """max(z, 0) elementwise."""
    return z.clamp(min=0)


def sigmoid_plan(z: Tensor, scale: int) -> Tensor:
    """The piecewise-linear sigmoid of spec section 7 (PLAN's slopes), elementwise, in [0, scale].

    Past |z| = S the value is the minimum of PLAN's two upper segments and S, so the curve is
    continuous and monotone (PLAN's own breakpoint at 2.375 drops by 0.004).
    z is a layer output (|z| <= ELEMENT_MAX), so nothing here can overflow.
    """
    assert z.dtype == I64 and scale > 0
    S = scale
    a = z.abs()
    upper = torch.minimum(tdiv(a, 8) + 5 * S // 8, tdiv(a, 32) + 27 * S // 32).clamp(max=S)
    y = torch.where(a < S, tdiv(a, 4) + S // 2, upper)
    return torch.where(z < 0, S - y, y)


def argmax_rows(z: Tensor) -> Tensor:
    """Index of each row's maximum, the first one on ties: z (n, c) -> (n,).

    torch.argmax documents first-max-wins; the tests hold it to the oracle on ties (an explicit
    where/min formulation gives the same result 15x slower on small chunks).
    """
    assert z.dim() == 2 and z.shape[1] >= 1
    return z.argmax(dim=1)


# --- input checks --------------------------------------------------------------------------------


def check_bound(t: Tensor, bound: int, what: str) -> None:
    """Raise BoundsError unless `t` is int64 with every element in [-bound, bound]."""
    _check_range(t, -bound, bound, what)


def _check_range(t: Tensor, lo: int, hi: int, what: str) -> None:
    if t.dtype != I64:
        raise BoundsError(f"{what} must be an int64 tensor, got {t.dtype}")
    if t.numel() == 0:
        return
    tmin, tmax = torch.aminmax(t)  # one pass; not t.abs(): abs(-2**63) overflows to itself
    if int(tmin) < lo or int(tmax) > hi:
        i = int(((t < lo) | (t > hi)).flatten().nonzero()[0, 0])
        v = int(t.flatten()[i])
        raise BoundsError(f"{what}: element {v} at flat index {i} is outside [{lo}, {hi}]")


def check_labels(spec: ModelSpec, y: Tensor) -> None:
    """Raise BoundsError unless every label suits the architecture ([-B, B], {0, 1} or [0, c))."""
    lo, hi = {Arch.LINREG: (-ELEMENT_MAX, ELEMENT_MAX), Arch.LOGREG: (0, 1)}.get(
        spec.arch, (0, spec.outputs - 1)
    )
    _check_range(y, lo, hi, f"{spec.arch.name} labels")


def _check_model_inputs(spec: ModelSpec, weights: Tensor, X: Tensor) -> None:
    if weights.shape != (spec.param_count,):
        raise BoundsError(f"weights have shape {tuple(weights.shape)}, {spec} needs ({spec.param_count},)")
    if X.dim() != 2 or X.shape[1] != spec.inputs:
        raise BoundsError(f"features have shape {tuple(X.shape)}, {spec} needs (n, {spec.inputs})")
    check_bound(weights, ELEMENT_MAX, "weights")
    check_bound(X, ELEMENT_MAX, "features")


# --- competition models --------------------------------------------------------------------------


def unpack_weights(spec: ModelSpec, flat: Tensor) -> tuple[Tensor, ...]:
    """Split flat weights per spec layout: (W (d,1), b (1,)) or (W1 (d,h), b1 (h,), W2 (h,c), b2 (c,))."""
    if flat.shape != (spec.param_count,):
        raise BoundsError(f"weights have shape {tuple(flat.shape)}, {spec} needs ({spec.param_count},)")
    d, h, c = spec.inputs, spec.hidden, spec.outputs
    if spec.arch != Arch.MLP:
        return flat[:d].view(d, 1), flat[d:]
    o1, o2, o3 = d * h, d * h + h, d * h + h + h * c  # offsets of b1, W2, b2
    return flat[:o1].view(d, h), flat[o1:o2], flat[o2:o3].view(h, c), flat[o3:]


def predict(spec: ModelSpec, weights_flat: Tensor, X: Tensor) -> Tensor:
    """Predictions for X (n, d) -> (n,): LINREG the value z, LOGREG the probability of class 1
    (sigmoid, scaled by S), MLP the class."""
    _check_model_inputs(spec, weights_flat, X)
    S, B = FIXED_SCALE, ELEMENT_MAX
    if spec.arch == Arch.MLP:
        W1, b1, W2, b2 = unpack_weights(spec, weights_flat)
        hid = relu(layer(X, W1, b1, S, B))  # (n, h)
        return argmax_rows(layer(hid, W2, b2, S, B))  # (n, c) -> (n,)
    W, b = unpack_weights(spec, weights_flat)
    z = layer(X, W, b, S, B)[:, 0]  # (n,)
    if spec.arch == Arch.LINREG:
        return z
    return sigmoid_plan(z, S)


def score_chunk(spec: ModelSpec, weights_flat: Tensor, X: Tensor, y: Tensor) -> int:
    """A chunk's addition to the SCORE job's accumulator: LINREG Σ (z - y)², LOGREG Σ (p - y·S)²
    (the Brier score), MLP the count of correct classes."""
    if y.shape != (X.shape[0],):
        raise BoundsError(
            f"labels have shape {tuple(y.shape)}, features {tuple(X.shape)} need ({X.shape[0]},)"
        )
    check_bound(y, ELEMENT_MAX, "labels")
    pred = predict(spec, weights_flat, X)  # (n,)
    if spec.arch == Arch.MLP:
        return int((pred == y).sum())
    target = y if spec.arch == Arch.LINREG else y * FIXED_SCALE
    e = pred - target  # |e| <= 2**25
    sq = e * e  # (n,), each <= 2**50
    total = 0
    for lo in range(0, sq.shape[0], _SUM_BLOCK):
        total += int(sq[lo : lo + _SUM_BLOCK].sum())
    return total


def final_score(spec: ModelSpec, acc: int, n: int) -> int:
    """The task score from the accumulator over all n samples: -tdiv(acc, n·S) for the squared
    errors of LINREG and LOGREG, the correct count for MLP. Higher is better."""
    assert acc >= 0 and n >= 1
    if spec.arch != Arch.MLP:
        return -(acc // (n * FIXED_SCALE))  # acc >= 0: floor division is truncation
    return acc


# --- shared models -------------------------------------------------------------------------------


def shared_sgd(weights: Tensor, lr: int, xs: Tensor, ys: Tensor) -> Tensor:
    """The paper's per-sample SGD (spec section 7, shared model) over the points in order.

    weights (f+1,) bias first, xs (n, f), ys (n,) -> new weights (f+1,). Every weight moves from the
    same pred; w - lr·(-2·x·err) is computed as w + (2·lr·x)·err, equal in exact integers. The dot
    product and the weight update are torch ops; the scalar pred/err step is in Python ints, which
    halves the per-point cost (torch pays ~4 µs an op here; an all-torch 0-d chain was 1.5-1.8x slower).
    """
    f = weights.shape[0] - 1 if weights.dim() == 1 else -1
    if not 1 <= f <= SHARED_MAX_FEATURES:
        raise BoundsError(
            f"weights have shape {tuple(weights.shape)}: need (f+1,), 1 <= f <= {SHARED_MAX_FEATURES}"
        )
    if xs.dim() != 2 or xs.shape[1] != f or ys.shape != (xs.shape[0],):
        raise BoundsError(f"points have shapes {tuple(xs.shape)}, {tuple(ys.shape)}: need (n, {f}), (n,)")
    if not 0 <= lr <= SHARED_LR_MAX:
        raise BoundsError(f"learning rate {lr} is outside [0, SHARED_LR_MAX={SHARED_LR_MAX}]")
    check_bound(weights, SHARED_W_MAX, "shared weights")
    check_bound(xs, SHARED_X_MAX, "shared xs")
    check_bound(ys, SHARED_X_MAX, "shared ys")
    n = xs.shape[0]
    rows = torch.cat([torch.ones(n, 1, dtype=I64), xs], dim=1)  # (n, f+1): the bias input is 1
    grads = (2 * lr) * rows  # (n, f+1), |2·lr·x| <= 2**37
    w = weights.clone()  # (f+1,)
    for row, g, y in zip(rows.unbind(0), grads.unbind(0), ys.tolist(), strict=True):
        pred = _tdiv_int(int(w @ row), SHARED_SCALE)  # |w·row| <= 9·2**56
        err = min(max(y - pred, -SHARED_ERR_MAX), SHARED_ERR_MAX)  # the scalar step in Python ints
        w.add_(g, alpha=err).clamp_(-SHARED_W_MAX, SHARED_W_MAX)  # |g·err| <= 2**61
    return w


def _tdiv_int(a: int, d: int) -> int:
    """tdiv on Python ints, for d > 0."""
    q = abs(a) // d
    return q if a >= 0 else -q


# --- miners' helper (float; not part of the state transition) ------------------------------------


def quantize(t: Tensor, scale: int, bound: int) -> Tensor:
    """round(t·scale) half away from zero, clamped to [-bound, bound], as int64. NaN raises BoundsError."""
    v = t.to(torch.float64) * scale
    if bool(torch.isnan(v).any()):
        raise BoundsError("cannot quantize NaN")
    whole = v.trunc()
    frac = (v - whole).abs()  # exact in float64; NaN for ±inf, which the clamp handles
    r = whole + torch.sign(v) * (frac >= 0.5).to(torch.float64)
    return r.clamp(-bound, bound).to(I64)
