"""The architecture registry: validate_spec's rules, parameter counts and chunk sizes (spec section 7)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import BoundsError
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.params import (
    ELEMENT_MAX,
    MAX_CHUNK_SAMPLES,
    MAX_CLASSES,
    MAX_MODEL_DIM,
    MAX_PARAMS,
    MAX_STEP_MACS,
)


def test_mlp_64_32_10() -> None:
    spec = validate_spec(3, 64, 32, 10)
    assert spec == ModelSpec(Arch.MLP, 64, 32, 10)
    assert spec.param_count == 64 * 32 + 32 + 32 * 10 + 10 == 2410
    assert spec.macs_per_sample == 2368
    assert spec.chunk_size == 16384 // 2368 == 6


def test_linreg_sizes() -> None:
    spec = validate_spec(1, 1, 0, 0)
    assert (spec.param_count, spec.macs_per_sample, spec.chunk_size) == (2, 1, MAX_CHUNK_SAMPLES)
    wide = validate_spec(2, MAX_MODEL_DIM, 0, 0)
    assert (wide.param_count, wide.chunk_size) == (MAX_MODEL_DIM + 1, MAX_STEP_MACS // MAX_MODEL_DIM)


def test_largest_valid_mlps() -> None:
    assert validate_spec(3, MAX_MODEL_DIM, 3, MAX_CLASSES).chunk_size == 1  # 4096·3 + 3·64 MACs
    spec = validate_spec(3, 1, 4000, 2)  # 12,000 MACs, 16,002 parameters
    assert spec.chunk_size == 1 and spec.param_count <= MAX_PARAMS


@pytest.mark.parametrize(
    ("dims", "match"),
    [
        ((0, 4, 0, 0), "arch 0 is unknown"),
        ((4, 4, 0, 0), "arch 4 is unknown"),
        ((1, 0, 0, 0), r"inputs 0 is outside \[1, MAX_MODEL_DIM"),
        ((3, MAX_MODEL_DIM + 1, 1, 2), "inputs 4097 is outside"),
        ((1, 4, 1, 0), "LINREG takes hidden = outputs = 0"),
        ((2, 4, 0, 2), "LOGREG takes hidden = outputs = 0"),
        ((3, 4, 0, 2), "MLP hidden 0 is outside"),
        ((3, 1, MAX_MODEL_DIM + 1, 2), "MLP hidden 4097 is outside"),
        ((3, 4, 4, 1), "MLP outputs 1 is outside"),
        ((3, 4, 4, 0), "MLP outputs 0 is outside"),
        ((3, 4, 4, MAX_CLASSES + 1), "MLP outputs 65 is outside"),
        ((3, 128, 128, 2), "exceed MAX_STEP_MACS"),  # 16,640 MACs
        ((3, 1, 4096, 2), "exceed MAX_PARAMS"),  # 12,288 MACs but 16,386 parameters
    ],
)
def test_rejections(dims: tuple[int, int, int, int], match: str) -> None:
    with pytest.raises(BoundsError, match=match):
        validate_spec(*dims)


def test_label_ok() -> None:
    lin, log, mlp = validate_spec(1, 2, 0, 0), validate_spec(2, 2, 0, 0), validate_spec(3, 2, 2, 5)
    assert lin.label_ok(-ELEMENT_MAX) and lin.label_ok(ELEMENT_MAX) and not lin.label_ok(ELEMENT_MAX + 1)
    assert log.label_ok(0) and log.label_ok(1) and not log.label_ok(2) and not log.label_ok(-1)
    assert mlp.label_ok(0) and mlp.label_ok(4) and not mlp.label_ok(5) and not mlp.label_ok(-1)


@given(
    st.integers(0, 4),
    st.integers(0, MAX_MODEL_DIM + 2),
    st.one_of(st.integers(0, 8), st.integers(0, MAX_MODEL_DIM + 2)),
    st.integers(0, MAX_CLASSES + 2),
)
def test_validate_spec_is_exactly_the_rules(arch: int, d: int, h: int, c: int) -> None:
    linear = arch in (1, 2) and h == 0 and c == 0
    mlp = arch == 3 and 1 <= h <= MAX_MODEL_DIM and 2 <= c <= MAX_CLASSES
    macs = d if arch != 3 else d * h + h * c
    params = d + 1 if arch != 3 else d * h + h + h * c + c
    ok = (linear or mlp) and 1 <= d <= MAX_MODEL_DIM and macs <= MAX_STEP_MACS and params <= MAX_PARAMS
    if not ok:
        with pytest.raises(BoundsError):
            validate_spec(arch, d, h, c)
        return
    spec = validate_spec(arch, d, h, c)
    assert (spec.param_count, spec.macs_per_sample) == (params, macs)
    assert 1 <= spec.chunk_size <= MAX_CHUNK_SAMPLES
    assert spec.chunk_size * macs <= MAX_STEP_MACS
