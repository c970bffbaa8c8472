"""`SparseMerkleTree.changes_since` finds exactly the leaves a batch of writes changed."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from protocol.hashing import keccak
from protocol.state import State


def brute_force(before: State, after: State) -> set[tuple[bytes, bytes]]:
    old = dict(before.leaves())
    return {(k, v) for k, v in after.leaves() if old.get(k) != v}


def changed_leaves(before: State, after: State) -> list[tuple[bytes, bytes]]:
    return after.tree.changes_since(before.tree)


def key(i: int) -> bytes:
    return keccak(i.to_bytes(4, "big"))


@given(
    st.lists(st.tuples(st.integers(0, 300), st.binary(max_size=3)), max_size=80),
    st.lists(st.tuples(st.integers(0, 400), st.binary(max_size=3)), max_size=40),
)
def test_diff_matches_brute_force(initial: list[tuple[int, bytes]], writes: list[tuple[int, bytes]]) -> None:
    before = State.from_leaves((key(i), v) for i, v in initial)
    after = State(before.tree.set_many((key(i), v) for i, v in writes))
    assert set(changed_leaves(before, after)) == brute_force(before, after)


def test_diff_of_a_large_state_is_small() -> None:
    rng = random.Random(7)
    before = State.from_leaves((key(i), rng.randbytes(24)) for i in range(20_000))
    writes = [(key(rng.randrange(25_000)), rng.randbytes(24)) for _ in range(50)]
    after = State(before.tree.set_many(writes))
    changes = changed_leaves(before, after)
    assert set(changes) == brute_force(before, after)
    assert len(changes) == len({k for k, _ in writes})
    assert changed_leaves(after, after) == []
