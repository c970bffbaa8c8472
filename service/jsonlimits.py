"""Refuse an over-large or over-deep JSON body from its bytes, before anything parses it.

Python's JSON parser recurses once per nested array or object, on the C stack; a 200 KB body nested
100,000 deep overflows it when the recursion limit is high (see `service.recursion`), and even
under a low limit the parse costs a deep recursion and a `RecursionError`. No request of the
project's roles nests more than a few levels, so a server refuses a body nested deeper than a small
limit, and a body larger than the largest legitimate one, before handing it to a parser.

`check_json_body(body, max_bytes=…, max_depth=…)` scans a whole body; `JsonScanner` does the same
incrementally, chunk by chunk as a body streams in. Neither parses: outside strings each `[` and
`{` opens a level and each `]` and `}` closes one (a closer at depth 0, which no valid document has,
is ignored, so the depth found is never below what a parser would reach); strings are skipped
with their escapes (`\\"`, `\\\\`), which is what lets a string hold brackets. UTF-16 and UTF-32
bodies (which `json.loads` would decode) are refused: their bytes would defeat the scan.

The scan is vectorised with numpy over the bytes that matter (quotes, backslashes, brackets), so it
costs less than parsing: a quarter of a second for 240 MB of hex strings, and for the worst body
(all brackets and quotes) a small part of what `json.loads` would spend on it.

An ASGI (FastAPI, Starlette) app gets the check on every request in one line, which answers 413 or
400 with the sequencer's error shape `{"error": {"code", "message", "limit"}}`::

    from service.asgi import JsonLimitsMiddleware

    app.add_middleware(JsonLimitsMiddleware, max_bytes=settings.max_body_bytes, max_depth=32)

A server that is not ASGI (the devnet's `http.server`) calls `check_json_body` on the body it read
and answers the `BodyRefused` it raises (`service.errors`: `status`, `code`, `limit`, `message`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from service.errors import BodyTooLarge, JsonNotUtf8, JsonTooDeep

DEFAULT_MAX_DEPTH: Final = 32  # the deepest legitimate body of the project nests 7 levels (a JSON-RPC batch)

# What each byte is to the scan: 0 nothing, or a quote, a backslash, an opener, a closer.
_NOTHING, _QUOTE, _BACKSLASH, _OPENER, _CLOSER = range(5)
_KINDS = np.zeros(256, dtype=np.uint8)
_KINDS[ord('"')] = _QUOTE
_KINDS[ord("\\")] = _BACKSLASH
_KINDS[list(b"[{")] = _OPENER
_KINDS[list(b"]}")] = _CLOSER
_SLICE = 2**20  # check_json_body scans a body this many bytes at a time
_UTF8 = ("utf-8", "utf-8-sig")


@dataclass(frozen=True, slots=True)
class JsonLimits:
    """The largest body in bytes and the deepest nesting of arrays and objects a server accepts."""

    max_bytes: int
    max_depth: int = DEFAULT_MAX_DEPTH

    def __post_init__(self) -> None:
        if self.max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {self.max_bytes}")
        if self.max_depth < 1:
            raise ValueError(f"max_depth must be >= 1, got {self.max_depth}")


class JsonScanner:
    """Scan a body as it streams: `feed` each chunk, then `finish`. Both raise `BodyTooLarge`,
    `JsonTooDeep` or `JsonNotUtf8` as soon as the bytes seen cross a limit.

    With `check_depth=False` only the size is checked (a body that is not JSON, e.g. a file upload).
    """

    def __init__(self, limits: JsonLimits, *, check_depth: bool = True) -> None:
        self.limits = limits
        self.check_depth = check_depth
        self.size = 0
        self.depth = 0  # the deepest nesting seen so far
        self._level = 0  # the nesting at the current position
        self._in_string = False
        self._odd_backslashes = False  # the bytes so far end with an odd run of backslashes
        self._head: bytes | None = b""  # the first bytes, until the encoding is known (then None)

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the body."""
        self.size += len(chunk)
        if self.size > self.limits.max_bytes:
            raise BodyTooLarge(
                f"the request body exceeds {self.limits.max_bytes} bytes", self.limits.max_bytes
            )
        if not self.check_depth or not chunk:
            return
        if self._head is not None:
            self._head += chunk
            if len(self._head) < 4:  # json.detect_encoding decides from the first four bytes
                return
            chunk, self._head = self._head, None
            _check_encoding(chunk)
        self._scan(chunk)

    def finish(self) -> int:
        """End of the body; returns the deepest nesting it has."""
        if self.check_depth and self._head is not None:
            head, self._head = self._head, None
            _check_encoding(head)
            self._scan(head)
        return self.depth

    def _scan(self, data: bytes) -> None:
        """Move the scan over `data`, vectorised over the bytes that matter (quotes, backslashes,
        brackets): a legitimate body is mostly string content, which costs one table lookup a byte.

        A quote is escaped when an odd run of backslashes is right before it. Backslashes outside
        strings are not JSON: a parser stops there and never reaches what follows, so reading them
        as escapes there too changes nothing a parser would see."""
        kinds = _KINDS[np.frombuffer(data, dtype=np.uint8)]
        pos = np.flatnonzero(kinds)
        if pos.size == 0:
            self._odd_backslashes = False
            return
        kind = kinds[pos]
        backslash = kind == _BACKSLASH
        index = np.arange(pos.size)
        # after[j]: the byte right before element j is a backslash (element j - 1)
        after = np.zeros(pos.size, dtype=bool)
        after[1:] = backslash[:-1] & (np.diff(pos) == 1)
        # run[j], for a backslash: the length of the run of backslashes that ends with it
        run_start = np.maximum.accumulate(np.where(backslash & ~after, index, 0))
        run = index - run_start + 1
        # An odd run at the end of the last chunk escapes this one's first byte, or goes on here.
        carried = self._odd_backslashes and bool(pos[0] == 0)
        if carried and backslash[0]:
            run = run + ((run_start == 0) & backslash)
        escaped = np.zeros(pos.size, dtype=bool)
        escaped[1:] = after[1:] & (run[:-1] % 2 == 1)
        escaped[0] = carried and not backslash[0]
        quote = (kind == _QUOTE) & ~escaped
        quotes_before = np.cumsum(quote) - quote + self._in_string
        outside = (quotes_before % 2 == 0) & (kind >= _OPENER)
        self._count(np.where(kind[outside] == _OPENER, 1, -1))
        self._in_string = bool((int(quotes_before[-1]) + int(quote[-1])) % 2)
        last = pos.size - 1
        self._odd_backslashes = bool(pos[last] == len(data) - 1 and backslash[last] and run[last] % 2 == 1)

    def _count(self, steps: np.ndarray[Any, np.dtype[np.int64]]) -> None:
        """Move the nesting level over `steps` (+1 an opener, -1 a closer), tracking the deepest."""
        if steps.size == 0:
            return
        # The level ignores a closer at 0: the walk reflected at 0 is walk - min(0, lowest so far).
        walk = np.cumsum(steps) + self._level
        reflected = walk - np.minimum(np.minimum.accumulate(walk), 0)
        self._level = int(reflected[-1])
        self.depth = max(self.depth, int(reflected.max()))
        if self.depth > self.limits.max_depth:
            raise JsonTooDeep(
                f"the JSON body nests arrays and objects deeper than {self.limits.max_depth} levels",
                self.limits.max_depth,
            )


def _check_encoding(head: bytes) -> None:
    if json.detect_encoding(head) not in _UTF8:
        raise JsonNotUtf8("the JSON body must be UTF-8 (RFC 8259); it looks like UTF-16 or UTF-32")


def check_json_body(body: bytes, *, max_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH) -> int:
    """Refuse `body` unless it has at most `max_bytes` bytes and nests arrays and objects at most
    `max_depth` deep (`BodyTooLarge`, `JsonTooDeep`, `JsonNotUtf8`); returns its depth. Scans the
    bytes only: an invalid document within the limits passes, for the parser to refuse."""
    scanner = JsonScanner(JsonLimits(max_bytes, max_depth))
    if len(body) > max_bytes:
        scanner.feed(body)  # raises BodyTooLarge before scanning anything
    view = memoryview(body)
    for start in range(0, len(body), _SLICE):
        scanner.feed(bytes(view[start : start + _SLICE]))
    return scanner.finish()


def json_depth(body: bytes) -> int:
    """The nesting depth of a JSON document's arrays and objects, from its bytes (0 for a scalar)."""
    return check_json_body(body, max_bytes=len(body), max_depth=len(body) + 1)
