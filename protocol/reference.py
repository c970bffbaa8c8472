"""The oracle of `protocol.kernels`: the same arithmetic on plain Python ints, no torch.

Written the way the Solidity library does it: explicit loops, integer arithmetic, division that
truncates toward zero implemented by hand. Python ints never overflow, so every intermediate value
is also checked against the int64 range (`_i64`): a test that passes through here proves the torch
kernels, which compute in int64, could not have wrapped around.

The Solidity libraries it models: `l1_contracts/src/libraries/MLKernels.sol`, `Scoring.sol`, `SharedSGD.sol`.
"""

from collections.abc import Sequence

from protocol.models import Arch, ModelSpec
from protocol.params import (
    ELEMENT_MAX,
    FIXED_SCALE,
    SHARED_ERR_MAX,
    SHARED_SCALE,
    SHARED_W_MAX,
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Matrix = list[list[int]]


def _i64(v: int) -> int:
    """v, asserting that it fits int64."""
    assert INT64_MIN <= v <= INT64_MAX, f"int64 overflow: {v}"
    return v


def tdiv(a: int, b: int) -> int:
    """a / b truncated toward zero: tdiv(-7, 2) == -3 (Python's // would give -4)."""
    assert b != 0
    q = abs(a) // abs(b)  # both non-negative: floor is truncation
    return q if (a < 0) == (b < 0) else -q


def clamp(v: int, lo: int, hi: int) -> int:
    """min(max(v, lo), hi)."""
    return min(max(v, lo), hi)


def layer(
    x: Sequence[Sequence[int]], W: Sequence[Sequence[int]], b: Sequence[int], scale: int, bound: int
) -> Matrix:
    """clamp(tdiv(x · W, scale) + b, -bound, bound): x n×i, W i×o, b o -> n×o."""
    i, o = len(W), len(b)
    out: Matrix = []
    for row in x:
        assert len(row) == i
        out_row: list[int] = []
        for c in range(o):
            acc = 0
            for k in range(i):
                acc = _i64(acc + _i64(row[k] * W[k][c]))
            out_row.append(clamp(_i64(tdiv(acc, scale) + b[c]), -bound, bound))
        out.append(out_row)
    return out


def relu(z: int) -> int:
    """max(z, 0)."""
    return max(z, 0)


def sigmoid_plan(z: int, scale: int) -> int:
    """The piecewise-linear sigmoid of spec section 7 (PLAN's slopes, monotone), in [0, scale]."""
    S = scale
    a = abs(z)
    if a < S:
        y = tdiv(a, 4) + tdiv(S, 2)
    else:
        y = min(tdiv(a, 8) + tdiv(5 * S, 8), tdiv(a, 32) + tdiv(27 * S, 32), S)
    return S - y if z < 0 else y


def argmax_rows(z: Sequence[Sequence[int]]) -> list[int]:
    """Index of each row's maximum, the first one on ties."""
    out: list[int] = []
    for row in z:
        best = 0
        for j in range(1, len(row)):
            if row[j] > row[best]:
                best = j
        out.append(best)
    return out


def unpack_weights(spec: ModelSpec, flat: Sequence[int]) -> list[tuple[Matrix, list[int]]]:
    """Split flat weights per spec layout into layers: [(W d×1, [b])] or [(W1 d×h, b1), (W2 h×c, b2)]."""
    assert len(flat) == spec.param_count
    d, h, c = spec.inputs, spec.hidden, spec.outputs
    dims = [(d, h), (h, c)] if spec.arch == Arch.MLP else [(d, 1)]
    layers: list[tuple[Matrix, list[int]]] = []
    p = 0
    for rows, cols in dims:
        W = [[flat[p + r * cols + j] for j in range(cols)] for r in range(rows)]  # row-major
        p += rows * cols
        layers.append((W, list(flat[p : p + cols])))
        p += cols
    assert p == len(flat)
    return layers


def predict(spec: ModelSpec, weights: Sequence[int], X: Sequence[Sequence[int]]) -> list[int]:
    """LINREG the value z, LOGREG the probability of class 1 (scaled by S), MLP the class."""
    S, B = FIXED_SCALE, ELEMENT_MAX
    assert all(abs(v) <= B for v in weights) and all(
        len(r) == spec.inputs and all(abs(v) <= B for v in r) for r in X
    )
    layers = unpack_weights(spec, weights)
    if spec.arch == Arch.MLP:
        (W1, b1), (W2, b2) = layers
        hid = [[relu(v) for v in r] for r in layer(X, W1, b1, S, B)]
        return argmax_rows(layer(hid, W2, b2, S, B))
    ((W, b),) = layers
    z = [r[0] for r in layer(X, W, b, S, B)]
    if spec.arch == Arch.LINREG:
        return z
    return [sigmoid_plan(v, S) for v in z]


def score_chunk(spec: ModelSpec, weights: Sequence[int], X: Sequence[Sequence[int]], y: Sequence[int]) -> int:
    """A chunk's addition to the accumulator: LINREG Σ (z - y)², LOGREG Σ (p - y·S)², MLP the
    count of correct classes."""
    assert len(y) == len(X)
    pred = predict(spec, weights, X)
    acc = 0
    for p, t in zip(pred, y, strict=True):
        if spec.arch == Arch.MLP:
            acc += 1 if p == t else 0
        else:
            target = t if spec.arch == Arch.LINREG else t * FIXED_SCALE
            acc += _i64((p - target) * (p - target))
    return acc


def final_score(spec: ModelSpec, acc: int, n: int) -> int:
    """The task score: -tdiv(acc, n·S) for LINREG and LOGREG (squared errors), acc for MLP."""
    assert acc >= 0 and n >= 1
    return acc if spec.arch == Arch.MLP else -tdiv(acc, n * FIXED_SCALE)


def shared_sgd(weights: Sequence[int], lr: int, xs: Sequence[Sequence[int]], ys: Sequence[int]) -> list[int]:
    """The paper's per-sample SGD, literally as spec section 7 writes it; weights bias first."""
    w = list(weights)
    f = len(w) - 1
    for x, y in zip(xs, ys, strict=True):
        assert len(x) == f
        s = w[0]
        for i in range(f):
            s = _i64(s + _i64(w[i + 1] * x[i]))
        pred = tdiv(s, SHARED_SCALE)
        err = clamp(y - pred, -SHARED_ERR_MAX, SHARED_ERR_MAX)
        new = [clamp(_i64(w[0] - _i64(lr * (-2 * err))), -SHARED_W_MAX, SHARED_W_MAX)]
        for i in range(f):
            new.append(clamp(_i64(w[i + 1] - _i64(lr * _i64(-2 * x[i] * err))), -SHARED_W_MAX, SHARED_W_MAX))
        w = new
    return w
