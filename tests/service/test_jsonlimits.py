"""The byte scan of `service.jsonlimits`: depths, strings holding brackets and escapes, sizes, chunks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.errors import BodyTooLarge, JsonNotUtf8, JsonTooDeep, ServiceError
from service.jsonlimits import DEFAULT_MAX_DEPTH, JsonLimits, JsonScanner, check_json_body, json_depth


def true_depth(value: Any) -> int:
    """The nesting of a parsed document's arrays and objects."""
    if isinstance(value, list):
        return 1 + max((true_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((true_depth(v) for v in value.values()), default=0)
    return 0


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def scan_in_chunks(body: bytes, sizes: list[int], limits: JsonLimits) -> int:
    scanner = JsonScanner(limits)
    pos, turn = 0, 0
    while pos < len(body):
        size = sizes[turn % len(sizes)] if sizes else len(body)
        scanner.feed(body[pos : pos + size])
        pos, turn = pos + size, turn + 1
    return scanner.finish()


# --- depths ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"", 0),
        (b"1", 0),
        (b'"x"', 0),
        (b"[]", 1),
        (b"{}", 1),
        (b'{"a": [1, {"b": [[]]}]}', 5),
        (b"[[], [[]], []]", 3),
        (b" \n\t[ [ 1 ] ]\r\n", 2),
    ],
)
def test_depth_of_small_documents(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def test_depth_at_the_limit_passes_and_one_deeper_is_refused() -> None:
    assert check_json_body(nested(DEFAULT_MAX_DEPTH), max_bytes=10**6) == DEFAULT_MAX_DEPTH
    with pytest.raises(JsonTooDeep) as refused:
        check_json_body(nested(DEFAULT_MAX_DEPTH + 1), max_bytes=10**6)
    assert refused.value.status == 400 and refused.value.code == "json_too_deep"
    assert refused.value.limit == DEFAULT_MAX_DEPTH and isinstance(refused.value, ServiceError)


def test_the_attack_body_is_refused_cheaply() -> None:
    body = b'{"raw": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(JsonTooDeep):
        check_json_body(body, max_bytes=10**6, max_depth=32)
    with pytest.raises(JsonTooDeep):  # never closed: a parser recurses just as deep before failing
        check_json_body(b"[" * 100_000, max_bytes=10**6, max_depth=32)


def test_mixed_openers_count_alike() -> None:
    assert json_depth(b'[{"a": [{"b": {}}]}]') == 5
    with pytest.raises(JsonTooDeep):
        check_json_body(b'{"a":' * 40 + b"1" + b"}" * 40, max_bytes=10**6)


def test_a_stray_closer_does_not_hide_depth_after_it() -> None:
    # No valid document has one; the level stays at 0 rather than going negative.
    assert json_depth(b"]]]]" + nested(5)) == 5
    assert json_depth(b"[]]][[[") == 3


# --- strings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b'["[[[[{{{{"]', 1),
        (b'["]]]]"]', 1),
        (b'["a\\"[[[[["]', 1),  # an escaped quote does not end the string
        (b'["a\\\\", [[]]]', 3),  # an escaped backslash does: the brackets after it count
        (b'["\\\\\\"[[[", []]', 2),  # \\ then \" : still inside the string
        (b'{"k[": "v{", "w": [{"x]": 1}]}', 3),
        (b'["\\u005b\\u007b"]', 1),
        ('["ünïcödé [[[ ✓", [[]]]'.encode(), 3),
    ],
)
def test_strings_hide_their_brackets(body: bytes, depth: int) -> None:
    assert true_depth(json.loads(body)) == depth
    assert json_depth(body) == depth


def test_a_string_split_across_chunks_at_every_byte() -> None:
    body = b'{"a": "x\\\\\\"[[[[\\\\", "b": [[["]]]"]]], "c": "\\"{"}'
    expected = true_depth(json.loads(body))
    for cut in range(len(body) + 1):
        scanner = JsonScanner(JsonLimits(10**6))
        scanner.feed(body[:cut])
        scanner.feed(body[cut:])
        assert scanner.finish() == expected, cut
    assert scan_in_chunks(body, [1], JsonLimits(10**6)) == expected


def test_a_long_run_of_backslashes_across_chunks() -> None:
    for run in range(1, 9):
        # an even run leaves the string closed at the quote after it; an odd run escapes that quote
        body = b'["' + b"\\" * run + b'"' + b", [[1]]" + (b'"]' if run % 2 else b"]")
        expected = 1 if run % 2 else 3
        for size in (1, 2, 3, 5):
            assert scan_in_chunks(body, [size], JsonLimits(10**6)) == expected, (run, size)


def test_long_strings_and_many_brackets_take_the_vectorised_path() -> None:
    hex_tx = b'{"raw": "0x' + b"ab" * 300_000 + b'"}'
    assert json_depth(hex_tx) == 1
    many = b"[" + b",".join([b'["]", {"a": [1]}]'] * 20_000) + b"]"
    assert json_depth(many) == true_depth(json.loads(many)) == 4


# --- sizes and encodings -----------------------------------------------------------------------------


def test_size_at_the_limit_passes_and_one_byte_over_is_refused() -> None:
    body = b'{"raw": "0x' + b"00" * 500 + b'"}'
    assert check_json_body(body, max_bytes=len(body)) == 1
    with pytest.raises(BodyTooLarge) as refused:
        check_json_body(body, max_bytes=len(body) - 1)
    assert refused.value.status == 413 and refused.value.code == "payload_too_large"
    assert refused.value.limit == len(body) - 1


def test_the_size_is_counted_across_chunks() -> None:
    scanner = JsonScanner(JsonLimits(max_bytes=10))
    scanner.feed(b"[1,2,3,")
    scanner.feed(b"4]")  # 9 bytes
    with pytest.raises(BodyTooLarge):
        scanner.feed(b"  ")


def test_size_only_for_a_body_that_is_not_json() -> None:
    scanner = JsonScanner(JsonLimits(max_bytes=10**6, max_depth=2), check_depth=False)
    scanner.feed(nested(1_000))
    assert scanner.finish() == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_utf16_and_utf32_are_refused(encoding: str) -> None:
    # json.loads would decode them, and their bytes would defeat the scan.
    body = json.dumps({"a": [[1]]}).encode(encoding)
    json.loads(body)
    with pytest.raises(JsonNotUtf8) as refused:
        check_json_body(body, max_bytes=10**6)
    assert refused.value.code == "malformed_json"


def test_utf8_with_a_bom_and_tiny_bodies() -> None:
    assert json_depth(b"\xef\xbb\xbf[[1]]") == 2
    for tiny in (b"[", b"[]", b"[[]"):
        assert scan_in_chunks(tiny, [1], JsonLimits(10)) == tiny.count(b"[")


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        JsonLimits(max_bytes=-1)
    with pytest.raises(ValueError):
        JsonLimits(max_bytes=10, max_depth=0)


# --- property: the scan's depth is the parsed document's ---------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from('[]{}"\\/,:ab \n\t\u00e9\u2603'), max_size=12),
    st.text(max_size=8),
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(alphabet=st.sampled_from('[]{}"\\ab'), max_size=6), inner, max_size=4),
    ),
    max_leaves=40,
)


@given(
    document=_documents,
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
    chunks=st.lists(st.integers(1, 17), min_size=1, max_size=6),
)
def test_the_scanned_depth_is_the_true_depth(
    document: Any, indent: int | None, ascii_only: bool, chunks: list[int]
) -> None:
    body = json.dumps(document, indent=indent, ensure_ascii=ascii_only).encode()
    depth = true_depth(document)
    assert json_depth(body) == depth
    assert scan_in_chunks(body, chunks, JsonLimits(len(body), max_depth=depth + 1)) == depth
    if depth:
        deeper = b"[" + body + b"]"  # one level over a limit of `depth`
        with pytest.raises(JsonTooDeep):
            scan_in_chunks(deeper, chunks, JsonLimits(len(deeper), max_depth=depth))
