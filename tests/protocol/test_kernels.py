"""The torch kernels against the plain-int oracle, bit for bit, and at the extremes of every bound."""

from fractions import Fraction

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from protocol import kernels as K
from protocol import reference as R
from protocol.errors import BoundsError
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.paper import PAPER_INITIAL, PAPER_LEARNING_RATE, PAPER_X, PAPER_Y
from protocol.params import (
    ELEMENT_MAX,
    FIXED_SCALE,
    MAX_CLASSES,
    MAX_MODEL_DIM,
    SHARED_ERR_MAX,
    SHARED_LR_MAX,
    SHARED_MAX_FEATURES,
    SHARED_SCALE,
    SHARED_W_MAX,
    SHARED_X_MAX,
)

B, S = ELEMENT_MAX, FIXED_SCALE
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


def T(v: object) -> torch.Tensor:
    return torch.tensor(v, dtype=torch.int64)


def elements(bound: int) -> st.SearchStrategy[int]:
    """Integers in [-bound, bound], often exactly at the edges or near the fixed-point scale."""
    return st.one_of(
        st.sampled_from([-bound, bound, 0, 1, -1]),
        st.integers(-min(4 * S, bound), min(4 * S, bound)),
        st.integers(-bound, bound),
    )


def matrix(rows: int, cols: int, elem: st.SearchStrategy[int]) -> st.SearchStrategy[list[list[int]]]:
    """rows × cols lists of `elem`."""
    return st.lists(st.lists(elem, min_size=cols, max_size=cols), min_size=rows, max_size=rows)


def reference_matmul(x: list[list[int]], W: list[list[int]]) -> list[list[int]]:
    return [[sum(r[k] * W[k][c] for k in range(len(W))) for c in range(len(W[0]))] for r in x]


# --- tdiv ----------------------------------------------------------------------------------------


def test_tdiv_truncates_toward_zero() -> None:
    cases = [(-7, 2, -3), (7, 2, 3), (7, -2, -3), (-7, -2, 3), (-1, 2, 0), (-6, 3, -2), (0, -5, 0)]
    for a, d, q in cases:
        assert R.tdiv(a, d) == q
        assert K.tdiv(T([a]), d).item() == q
    big = T([-(2**60) - 1, 2**60 + 1, I64_MAX, I64_MIN + 1])
    assert K.tdiv(big, S).tolist() == [R.tdiv(v, S) for v in big.tolist()]


@given(st.integers(I64_MIN + 1, I64_MAX), st.integers(-(2**40), 2**40).filter(lambda d: d != 0))
def test_tdiv_matches_oracle_and_fraction(a: int, d: int) -> None:
    q = int(Fraction(a, d))  # int() of a Fraction truncates toward zero
    assert R.tdiv(a, d) == q
    assert K.tdiv(T([a]), d).item() == q


# --- layer ---------------------------------------------------------------------------------------


@st.composite
def layer_case(draw: st.DrawFn) -> tuple[list[list[int]], list[list[int]], list[int]]:
    n, i, o = draw(st.integers(0, 5)), draw(st.integers(1, 8)), draw(st.integers(1, 5))
    return (
        draw(matrix(n, i, elements(B))),
        draw(matrix(i, o, elements(B))),
        draw(st.lists(elements(B), min_size=o, max_size=o)),
    )


@given(layer_case())
def test_layer_matches_oracle(case: tuple[list[list[int]], list[list[int]], list[int]]) -> None:
    x, W, b = case
    got = K.layer(T(x).view(len(x), len(W)), T(W), T(b), S, B)
    assert got.dtype == torch.int64
    assert got.tolist() == R.layer(x, W, b, S, B)


@pytest.mark.parametrize("signs", ["all+", "all-", "mixed"])
def test_layer_extreme_inner_dim_is_exact(signs: str) -> None:
    # i = MAX_MODEL_DIM with every element at ±B: |x·W| reaches 2**60 and must not wrap.
    i, o = MAX_MODEL_DIM, 2
    x = torch.full((2, i), B, dtype=torch.int64)
    W = torch.full((i, o), B, dtype=torch.int64)
    if signs == "all-":
        x[1] = -B
    if signs == "mixed":
        x[1, ::2] = -B
        W[1::3, 1] = -B
    b = T([B, -B])
    exact = reference_matmul(x.tolist(), W.tolist())  # Python big ints
    assert (x @ W).tolist() == exact
    if signs == "all+":
        assert exact[0][0] == 2**60
    got = K.layer(x, W, b, S, B)
    assert got.tolist() == R.layer(x.tolist(), W.tolist(), b.tolist(), S, B)  # the oracle asserts int64 range
    assert got.abs().max().item() <= B
    if signs != "mixed":
        assert got[0].tolist() == [B, B]  # tdiv(2**60, S) + b is far past B: the clamp binds


def test_layer_clamp_binds_both_ways() -> None:
    x, W = T([[B], [-B]]), T([[S]])  # x·W / S = ±B exactly
    assert K.layer(x, W, T([1]), S, B).tolist() == [[B], [-B + 1]]
    assert K.layer(x, W, T([-1]), S, B).tolist() == [[B - 1], [-B]]


# --- sigmoid and argmax --------------------------------------------------------------------------


@given(st.lists(elements(B), min_size=1, max_size=50))
def test_sigmoid_matches_oracle(zs: list[int]) -> None:
    assert K.sigmoid_plan(T(zs), S).tolist() == [R.sigmoid_plan(z, S) for z in zs]


def test_sigmoid_shape_exhaustively() -> None:
    z = torch.arange(-6 * S, 6 * S + 1, dtype=torch.int64)
    y = K.sigmoid_plan(z, S)
    assert bool((y[1:] >= y[:-1]).all())  # monotone everywhere (PLAN's own knee at 2.375 is not)
    knee = 7 * S // 3  # where PLAN's two upper segments cross: the curve is continuous there
    assert abs(int(y[knee + 6 * S + 1] - y[knee + 6 * S])) <= 1
    assert int(y[S + 6 * S]) == 3 * S // 4 and int(y[S - 1 + 6 * S]) <= 3 * S // 4
    assert int(y[6 * S]) == S // 2  # sigmoid(0) = S/2
    assert torch.equal(y.flip(0), S - y)  # f(-z) = S - f(z)
    assert bool((y[z >= 5 * S] == S).all()) and bool((y[z <= -5 * S] == 0).all())  # saturates at ±5S
    assert bool((y[z < 5 * S] < S).all()) and bool((y[z > -5 * S] > 0).all())
    assert bool((y >= 0).all()) and bool((y <= S).all())
    for v in [*range(-5 * S - 2, -5 * S + 3), -S - 1, -S, -1, 0, 1, S, 7 * S // 3, 19 * S // 8, 5 * S]:
        assert int(y[v + 6 * S]) == R.sigmoid_plan(v, S)
    extremes = T([B, -B])
    assert K.sigmoid_plan(extremes, S).tolist() == [S, 0] == [R.sigmoid_plan(B, S), R.sigmoid_plan(-B, S)]


@given(st.data())
def test_argmax_first_max_wins(data: st.DataObject) -> None:
    n, c = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 12))
    small = data.draw(st.booleans())  # small values force ties
    z = data.draw(matrix(n, c, st.integers(-2, 2) if small else elements(B)))
    assert K.argmax_rows(T(z)).tolist() == R.argmax_rows(z)


def test_argmax_ties_explicit() -> None:
    z = [[1, 3, 3, 2], [5, 5, 5, 5], [0, -1, 0, 0], [-B, -B, B, B], [7]]
    assert R.argmax_rows(z) == [1, 0, 0, 2, 0]
    assert K.argmax_rows(T(z[:4])).tolist() == [1, 0, 0, 2]
    wide = torch.full((3, MAX_CLASSES), B, dtype=torch.int64)
    wide[1, :40] = -B
    assert K.argmax_rows(wide).tolist() == [0, 40, 0]


# --- whole models --------------------------------------------------------------------------------


@st.composite
def model_case(draw: st.DrawFn) -> tuple[ModelSpec, list[int], list[list[int]], list[int]]:
    arch = draw(st.sampled_from(list(Arch)))
    d = draw(st.integers(1, 6))
    h, c = (draw(st.integers(1, 6)), draw(st.integers(2, 6))) if arch == Arch.MLP else (0, 0)
    spec = validate_spec(arch, d, h, c)
    n = draw(st.integers(1, 8))
    w = draw(st.lists(elements(B), min_size=spec.param_count, max_size=spec.param_count))
    X = draw(matrix(n, d, elements(B)))
    label = {Arch.LINREG: elements(B), Arch.LOGREG: st.integers(0, 1)}.get(arch, st.integers(0, c - 1))
    return spec, w, X, draw(st.lists(label, min_size=n, max_size=n))


@given(model_case())
def test_predict_and_score_match_oracle(
    case: tuple[ModelSpec, list[int], list[list[int]], list[int]],
) -> None:
    spec, w, X, y = case
    pred = K.predict(spec, T(w), T(X))
    assert pred.dtype == torch.int64 and pred.shape == (len(X),)
    assert pred.tolist() == R.predict(spec, w, X)
    acc = K.score_chunk(spec, T(w), T(X), T(y))
    assert isinstance(acc, int) and acc == R.score_chunk(spec, w, X, y)
    assert K.final_score(spec, acc, len(X)) == R.final_score(spec, acc, len(X))
    if spec.arch == Arch.MLP:
        assert 0 <= acc <= len(X)
    elif spec.arch == Arch.LOGREG:
        assert 0 <= acc <= len(X) * S * S  # Brier: each |p - y·S| <= S


def test_unpack_weights_layout() -> None:
    spec = validate_spec(3, 2, 3, 2)
    flat = list(range(spec.param_count))  # W1 0..5, b1 6..8, W2 9..14, b2 15..16
    W1, b1, W2, b2 = K.unpack_weights(spec, T(flat))
    assert W1.tolist() == [[0, 1, 2], [3, 4, 5]] and b1.tolist() == [6, 7, 8]
    assert W2.tolist() == [[9, 10], [11, 12], [13, 14]] and b2.tolist() == [15, 16]
    assert R.unpack_weights(spec, flat) == [(W1.tolist(), b1.tolist()), (W2.tolist(), b2.tolist())]
    W, b = K.unpack_weights(validate_spec(1, 3, 0, 0), T([1, 2, 3, 4]))
    assert W.tolist() == [[1], [2], [3]] and b.tolist() == [4]


@pytest.mark.parametrize(
    "dims", [(3, MAX_MODEL_DIM, 3, MAX_CLASSES), (3, 1, 4000, 2), (1, MAX_MODEL_DIM, 0, 0)]
)
def test_models_at_extremes(dims: tuple[int, int, int, int]) -> None:
    spec = validate_spec(*dims)
    g = torch.Generator().manual_seed(sum(dims))
    signs = torch.randint(0, 2, (spec.param_count,), generator=g) * 2 - 1
    for w in (torch.full((spec.param_count,), B), signs * B):
        X = torch.stack([torch.full((spec.inputs,), B), -torch.full((spec.inputs,), B)])  # (2, d)
        y = T([B, -B]) if spec.arch == Arch.LINREG else T([0, spec.outputs - 1])
        assert K.predict(spec, w, X).tolist() == R.predict(spec, w.tolist(), X.tolist())
        assert K.score_chunk(spec, w, X, y) == R.score_chunk(spec, w.tolist(), X.tolist(), y.tolist())


def test_linreg_squared_error_sum_past_int64() -> None:
    # every z is B and every label -B: (2B)**2 = 2**50 a sample; 8192 samples sum to 2**63
    spec = validate_spec(1, 1, 0, 0)
    n = 8192
    X, y, w = torch.full((n, 1), B), torch.full((n,), -B), T([B, B])
    assert (
        K.score_chunk(spec, w, X[:64], y[:64])
        == 64 * 2**50
        == R.score_chunk(spec, [B, B], [[B]] * 64, [-B] * 64)
    )
    acc = K.score_chunk(spec, w, X, y)
    assert acc == n * 2**50 == 2**63
    assert K.final_score(spec, acc, n) == -(2**63 // (n * S)) == R.final_score(spec, acc, n)


def test_final_score() -> None:
    lin, mlp = validate_spec(1, 1, 0, 0), validate_spec(3, 2, 2, 2)
    assert K.final_score(lin, 0, 5) == 0
    assert K.final_score(lin, 5 * S - 1, 5) == 0 == R.final_score(lin, 5 * S - 1, 5)
    assert K.final_score(lin, 5 * S, 5) == -1 == R.final_score(lin, 5 * S, 5)
    assert K.final_score(mlp, 7, 9) == 7 == R.final_score(mlp, 7, 9)


# --- input checks --------------------------------------------------------------------------------


def test_check_bound() -> None:
    K.check_bound(T([-B, 0, B]), B, "x")
    K.check_bound(torch.zeros(0, 3, dtype=torch.int64), B, "x")
    for bad in ([B + 1], [0, -B - 1], [I64_MIN], [I64_MAX]):  # I64_MIN: abs() would overflow to itself
        with pytest.raises(BoundsError, match="x: element"):
            K.check_bound(T(bad), B, "x")
    with pytest.raises(BoundsError, match="int64"):
        K.check_bound(torch.zeros(2, dtype=torch.int32), B, "x")
    with pytest.raises(BoundsError, match="int64"):
        K.check_bound(torch.zeros(2), B, "x")


def test_check_labels() -> None:
    K.check_labels(validate_spec(3, 2, 2, 3), T([0, 1, 2]))
    K.check_labels(validate_spec(1, 2, 0, 0), T([-B, B]))
    with pytest.raises(BoundsError, match=r"outside \[0, 2\]"):
        K.check_labels(validate_spec(3, 2, 2, 3), T([0, 3]))
    with pytest.raises(BoundsError, match=r"LOGREG labels: element -1"):
        K.check_labels(validate_spec(2, 2, 0, 0), T([0, 1, -1]))


def test_kernels_reject_bad_inputs() -> None:
    spec = validate_spec(3, 2, 2, 2)
    w, X, y = (
        torch.zeros(spec.param_count, dtype=torch.int64),
        torch.zeros(3, 2, dtype=torch.int64),
        T([0, 1, 0]),
    )
    assert K.score_chunk(spec, w, X, y) == 2  # all-zero logits: class 0 wins
    with pytest.raises(BoundsError, match="weights have shape"):
        K.predict(spec, w[:-1], X)
    with pytest.raises(BoundsError, match="features have shape"):
        K.predict(spec, w, torch.zeros(3, 3, dtype=torch.int64))
    with pytest.raises(BoundsError, match="features: element"):
        K.predict(spec, w, X + B + 1)
    with pytest.raises(BoundsError, match="weights: element"):
        K.predict(spec, w - B - 1, X)
    with pytest.raises(BoundsError, match="labels have shape"):
        K.score_chunk(spec, w, X, y[:2])
    with pytest.raises(BoundsError, match="labels: element"):
        K.score_chunk(spec, w, X, y + B)


# --- shared model --------------------------------------------------------------------------------


def test_paper_vectors() -> None:
    xs, ys = T(PAPER_X).view(-1, 1), T(PAPER_Y)
    w = K.shared_sgd(T(PAPER_INITIAL), PAPER_LEARNING_RATE, xs, ys)
    assert w.tolist() == [100262000, 3420000]
    assert R.shared_sgd(PAPER_INITIAL, PAPER_LEARNING_RATE, [[x] for x in PAPER_X], PAPER_Y) == [
        100262000,
        3420000,
    ]
    for _ in range(1999):
        w = K.shared_sgd(w, PAPER_LEARNING_RATE, xs, ys)
    assert w.tolist() == [709424000, -7180000]


def test_paper_vectors_oracle_2000_epochs() -> None:
    w = list(PAPER_INITIAL)
    for _ in range(2000):
        w = R.shared_sgd(w, PAPER_LEARNING_RATE, [[x] for x in PAPER_X], PAPER_Y)
    assert w == [709424000, -7180000]


@st.composite
def sgd_case(draw: st.DrawFn) -> tuple[list[int], int, list[list[int]], list[int]]:
    f, n = draw(st.integers(1, SHARED_MAX_FEATURES)), draw(st.integers(0, 12))
    w = draw(st.lists(elements(SHARED_W_MAX), min_size=f + 1, max_size=f + 1))
    lr = draw(st.one_of(st.sampled_from([0, 1, 1000, SHARED_LR_MAX]), st.integers(0, SHARED_LR_MAX)))
    small = st.integers(-100, 100)
    xs = draw(matrix(n, f, st.one_of(small, elements(SHARED_X_MAX))))
    return w, lr, xs, draw(st.lists(st.one_of(small, elements(SHARED_X_MAX)), min_size=n, max_size=n))


@given(sgd_case())
def test_shared_sgd_matches_oracle(case: tuple[list[int], int, list[list[int]], list[int]]) -> None:
    w, lr, xs, ys = case
    got = K.shared_sgd(T(w), lr, T(xs).view(len(xs), len(w) - 1), T(ys))
    assert got.dtype == torch.int64
    assert got.tolist() == R.shared_sgd(w, lr, xs, ys)  # the oracle asserts every intermediate fits int64


def test_shared_sgd_clamps_bind() -> None:
    f = SHARED_MAX_FEATURES
    w0 = [SHARED_W_MAX] * (f + 1)
    xs = [[SHARED_X_MAX] * f, [-SHARED_X_MAX] * f]
    ys = [-SHARED_X_MAX, SHARED_X_MAX]
    # point 0: pred = (9·2**36·... ) / 1e7 is huge, so err clamps to -ERR_MAX and the weights to -W_MAX
    got = K.shared_sgd(T(w0), SHARED_LR_MAX, T(xs), T(ys))
    ref = R.shared_sgd(w0, SHARED_LR_MAX, xs, ys)
    assert got.tolist() == ref
    one = R.shared_sgd(w0, SHARED_LR_MAX, xs[:1], ys[:1])
    assert one == [-SHARED_W_MAX] * (f + 1)
    pred = R.tdiv(SHARED_W_MAX + f * SHARED_W_MAX * SHARED_X_MAX, SHARED_SCALE)
    assert -SHARED_X_MAX - pred < -SHARED_ERR_MAX  # the err clamp bound on point 0
    assert all(abs(v) <= SHARED_W_MAX for v in ref)


def test_shared_sgd_rejects_bad_inputs() -> None:
    w, xs, ys = T([0, 0]), T([[1], [2]]), T([1, 2])
    with pytest.raises(BoundsError, match="learning rate"):
        K.shared_sgd(w, SHARED_LR_MAX + 1, xs, ys)
    with pytest.raises(BoundsError, match="shared xs"):
        K.shared_sgd(w, 1, xs + SHARED_X_MAX, ys)
    with pytest.raises(BoundsError, match="shared ys"):
        K.shared_sgd(w, 1, xs, ys - SHARED_X_MAX - 3)
    with pytest.raises(BoundsError, match="shared weights"):
        K.shared_sgd(w + SHARED_W_MAX + 1, 1, xs, ys)
    with pytest.raises(BoundsError, match="points have shapes"):
        K.shared_sgd(w, 1, T([[1, 2]]), T([1]))
    with pytest.raises(BoundsError, match="weights have shape"):
        K.shared_sgd(torch.zeros(SHARED_MAX_FEATURES + 2, dtype=torch.int64), 1, xs, ys)


# --- quantize ------------------------------------------------------------------------------------


def test_quantize_rounds_half_away_from_zero() -> None:
    t = torch.tensor(
        [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 2.4, -2.6],
        dtype=torch.float64,
    )
    assert K.quantize(t, 1, B).tolist() == [1, -1, 2, -2, 3, -3, 0, 0, 2, -3]
    half = torch.tensor([0.5 / S, -1.5 / S, 1.0, -1.0], dtype=torch.float32)
    got = K.quantize(half, S, B)
    assert got.dtype == torch.int64 and got.tolist() == [1, -2, S, -S]


def test_quantize_clamps_and_rejects_nan() -> None:
    t = torch.tensor([1e30, -1e30, float("inf"), float("-inf"), 256.0, -256.0])
    assert K.quantize(t, S, B).tolist() == [B, -B, B, -B, B, -B]
    with pytest.raises(BoundsError, match="NaN"):
        K.quantize(torch.tensor([0.0, float("nan")]), S, B)
