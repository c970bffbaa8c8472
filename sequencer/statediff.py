"""The leaves that differ between two states, found by walking both trees and skipping shared nodes.

`protocol.smt` trees are persistent: a block's post-state shares every node it did not change with
its pre-state, and nodes sit at fixed positions (a node's depth is its path length), so two trees
are compared position by position and identical hashes end the descent. The cost is proportional
to the changed leaves times the tree depth, not to the size of the state. Keys are never deleted
(docs/spec.md section 2), so a diff is a list of writes.

This reads the tree's node attributes (`_node`, `left`, `right`, `key`, `value`, `hash`): the
protocol package exposes no diff; if it grows one, use it here.
"""

from __future__ import annotations

from typing import Any

from protocol.state import State


def _leaves(node: Any, out: dict[bytes, bytes]) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        if hasattr(n, "left"):
            stack.append(n.left)
            stack.append(n.right)
        elif hasattr(n, "key"):
            out[n.key] = n.value


def changed_leaves(before: State, after: State) -> list[tuple[bytes, bytes]]:
    """`(key, value)` of every leaf of `after` whose value differs from (or is absent in) `before`,
    in no particular order."""
    changes: list[tuple[bytes, bytes]] = []
    stack: list[tuple[Any, Any]] = [(before.tree._node, after.tree._node)]
    while stack:
        a, b = stack.pop()
        if a is b or a.hash == b.hash:
            continue
        if hasattr(a, "left") and hasattr(b, "left"):
            stack.append((a.left, b.left))
            stack.append((a.right, b.right))
            continue
        old: dict[bytes, bytes] = {}
        new: dict[bytes, bytes] = {}
        _leaves(a, old)
        _leaves(b, new)
        changes.extend((k, v) for k, v in new.items() if old.get(k) != v)
    return changes
