"""The compact sparse Merkle tree of the state (docs/spec.md section 2).

A persistent tree: `SparseMerkleTree.set` copies the path it changes and shares every other node with
the tree it came from, so old roots stay readable. Every node hashes itself when it is built, so the
root of a tree is an attribute read.

`verify_proof` and `root_after_update` need no tree: they are what the L1 contracts and the witness
re-execution compute, and must agree with the tree bit for bit.

Solidity twin: `l1_contracts/src/libraries/SparseMerkle.sol`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, TypeAlias

from protocol.errors import ProofError
from protocol.hashing import ZERO32, keccak

KEY_BYTES: Final = 32
MAX_DEPTH: Final = 256  # two keys that differ only in bit 255 put their leaves at depth 256

_LEAF_PREFIX: Final = b"\x00"
_TERMINAL_PLAIN: Final = 0  # EMPTY or LEAF: the caller knows which from whether it claims a value
_TERMINAL_OTHER: Final = 1


# --- nodes ---------------------------------------------------------------------------------------


class _Empty:
    """The empty subtree; one instance, `_EMPTY`."""

    __slots__ = ("hash",)
    hash: bytes

    def __init__(self) -> None:
        self.hash = ZERO32


class _Leaf:
    """A leaf: the only node of a subtree holding one key."""

    __slots__ = ("hash", "ikey", "key", "value", "value_hash")
    hash: bytes
    ikey: int
    key: bytes
    value: bytes
    value_hash: bytes

    def __init__(self, key: bytes, ikey: int, value: bytes) -> None:
        self.key = key
        self.ikey = ikey
        self.value = value
        self.value_hash = keccak(value)
        self.hash = keccak(_LEAF_PREFIX + key + self.value_hash)


class _Internal:
    """An internal node; the subtree below it always holds at least two leaves."""

    __slots__ = ("hash", "left", "right")
    hash: bytes
    left: _Node
    right: _Node

    def __init__(self, left: _Node, right: _Node) -> None:
        self.left = left
        self.right = right
        self.hash = keccak(left.hash + right.hash)


_Node: TypeAlias = _Empty | _Leaf | _Internal
_EMPTY: Final = _Empty()


def _int_key(key: bytes) -> int:
    if len(key) != KEY_BYTES:
        raise ProofError(f"keys are 32 bytes, got {len(key)}")
    return int.from_bytes(key, "big")


def _split_depth(a: int, b: int) -> int:
    """First bit (spec numbering, 0 = most significant) where two different keys differ."""
    return MAX_DEPTH - (a ^ b).bit_length()


def _chain_up(node: _Node, ikey: int, top: int, bottom: int) -> _Node:
    """`node` sits at depth `bottom` on the path of `ikey`; wrap it in one-child nodes up to depth `top`."""
    for depth in range(bottom - 1, top - 1, -1):
        node = _Internal(_EMPTY, node) if (ikey >> (255 - depth)) & 1 else _Internal(node, _EMPTY)
    return node


def _build(leaves: list[_Leaf], ikeys: list[int], lo: int, hi: int, depth: int) -> _Node:
    """The subtree at `depth` holding `leaves[lo:hi]` (sorted by key, distinct, sharing `depth` bits)."""
    count = hi - lo
    if count == 1:
        return leaves[lo]
    if count == 0:
        return _EMPTY
    first = ikeys[lo]
    # The keys of a sorted range share the prefix its first and last key share, so the first bit where
    # those two differ is where the range splits; above it the range is a chain of one-child nodes.
    split = MAX_DEPTH - (first ^ ikeys[hi - 1]).bit_length()
    node: _Node
    if count == 2:
        node = _Internal(leaves[lo], leaves[lo + 1])
    else:
        shift = 255 - split
        mid = bisect_left(ikeys, ((first >> shift) | 1) << shift, lo, hi)
        node = _Internal(_build(leaves, ikeys, lo, mid, split + 1), _build(leaves, ikeys, mid, hi, split + 1))
    if split > depth:
        return _chain_up(node, first, depth, split)
    return node


def _build_sorted(leaves: list[_Leaf], depth: int) -> _Node:
    leaves.sort(key=lambda leaf: leaf.ikey)
    return _build(leaves, [leaf.ikey for leaf in leaves], 0, len(leaves), depth)


def _merge(
    node: _Node, batch: list[tuple[int, bytes, bytes]], ikeys: list[int], lo: int, hi: int, depth: int
) -> tuple[_Node, int]:
    """Write `batch[lo:hi]` (sorted, distinct keys on the path of `node`) into `node` at `depth`.

    Returns the new subtree and the number of keys it gained; an unchanged subtree is returned as is.
    """
    if lo == hi:
        return node, 0
    if type(node) is _Internal:
        shift = 255 - depth
        mid = bisect_left(ikeys, ((ikeys[lo] >> shift) | 1) << shift, lo, hi)
        left, added_left = _merge(node.left, batch, ikeys, lo, mid, depth + 1)
        right, added_right = _merge(node.right, batch, ikeys, mid, hi, depth + 1)
        if left is node.left and right is node.right:
            return node, 0
        return _Internal(left, right), added_left + added_right
    if type(node) is _Leaf:
        leaves: list[_Leaf] = []
        kept = True
        for index in range(lo, hi):
            ikey, key, value = batch[index]
            if ikey == node.ikey:
                kept = False
                leaves.append(node if value == node.value else _Leaf(key, ikey, value))
            else:
                leaves.append(_Leaf(key, ikey, value))
        if kept:
            leaves.append(node)
        elif len(leaves) == 1 and leaves[0] is node:
            return node, 0
        return _build_sorted(leaves, depth), len(leaves) - 1
    leaves = [_Leaf(key, ikey, value) for ikey, key, value in batch[lo:hi]]
    return _build(leaves, ikeys[lo:hi], 0, hi - lo, depth), hi - lo


# --- proofs --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmtProof:
    """A proof of one key: the siblings from the root down to the terminal, and the terminal.

    `other_key`/`other_value_hash` are set when the terminal is another key's leaf (exclusion);
    otherwise the terminal is EMPTY (a claim of absence) or the key's own leaf (a claim of a value).
    """

    siblings: tuple[bytes, ...]  # top first; len == depth of the terminal position
    other_key: bytes | None = None
    other_value_hash: bytes | None = None

    def encode(self) -> bytes:
        """The compact bytes of docs/spec.md section 2: depth, bitmap, non-empty siblings, terminal."""
        depth = _check_siblings(self.siblings)
        bitmap = bytearray((depth + 7) >> 3)
        body = bytearray()
        for index, sibling in enumerate(self.siblings):
            if sibling != ZERO32:
                bitmap[index >> 3] |= 0x80 >> (index & 7)
                body += sibling
        out = bytearray(depth.to_bytes(2, "big"))
        out += bitmap
        out += body
        other = _check_other(self)
        if other is None:
            out.append(_TERMINAL_PLAIN)
        else:
            out.append(_TERMINAL_OTHER)
            out += other[0]
            out += other[1]
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> SmtProof:
        """Parse compact proof bytes; `ProofError` unless `data` is exactly one canonical encoding."""
        size = len(data)
        if size < 3:
            raise ProofError(f"a proof needs at least 3 bytes, got {size}")
        depth = int.from_bytes(data[0:2], "big")
        if depth > MAX_DEPTH:
            raise ProofError(f"proof depth {depth} exceeds {MAX_DEPTH}")
        offset = 2 + ((depth + 7) >> 3)
        if size < offset:
            raise ProofError(f"proof truncated in its bitmap ({size} bytes)")
        bitmap = data[2:offset]
        if depth & 7 and bitmap[-1] & (0xFF >> (depth & 7)):
            raise ProofError("proof bitmap has bits set past its depth")
        siblings: list[bytes] = []
        for index in range(depth):
            if bitmap[index >> 3] & (0x80 >> (index & 7)):
                end = offset + 32
                if end > size:
                    raise ProofError(f"proof truncated in sibling {index}")
                sibling = bytes(data[offset:end])
                if sibling == ZERO32:
                    raise ProofError(f"proof sibling {index} is marked non-empty but is zero")
                siblings.append(sibling)
                offset = end
            else:
                siblings.append(ZERO32)
        if offset >= size:
            raise ProofError("proof truncated before its terminal byte")
        terminal = data[offset]
        offset += 1
        if terminal == _TERMINAL_PLAIN:
            if offset != size:
                raise ProofError(f"{size - offset} trailing bytes after a proof")
            return cls(tuple(siblings))
        if terminal != _TERMINAL_OTHER:
            raise ProofError(f"unknown proof terminal {terminal}")
        if size - offset != 64:
            raise ProofError(f"an OTHER terminal needs 64 bytes, got {size - offset}")
        return cls(tuple(siblings), bytes(data[offset : offset + 32]), bytes(data[offset + 32 : offset + 64]))


def _check_siblings(siblings: tuple[bytes, ...]) -> int:
    depth = len(siblings)
    if depth > MAX_DEPTH:
        raise ProofError(f"proof depth {depth} exceeds {MAX_DEPTH}")
    for index, sibling in enumerate(siblings):
        if len(sibling) != 32:
            raise ProofError(f"proof sibling {index} is {len(sibling)} bytes, not 32")
    return depth


def _check_other(proof: SmtProof) -> tuple[bytes, bytes] | None:
    key, value_hash = proof.other_key, proof.other_value_hash
    if key is None and value_hash is None:
        return None
    if key is None or value_hash is None:
        raise ProofError("an OTHER terminal needs both a key and a value hash")
    if len(key) != KEY_BYTES or len(value_hash) != 32:
        raise ProofError("an OTHER terminal's key and value hash are 32 bytes each")
    return key, value_hash


def _other_terminal(proof: SmtProof, ikey: int) -> tuple[int, bytes] | None:
    """The OTHER terminal's key as an integer and its leaf hash, checked against `ikey` and the depth."""
    other = _check_other(proof)
    if other is None:
        return None
    other_ikey = int.from_bytes(other[0], "big")
    depth = len(proof.siblings)
    if other_ikey == ikey:
        raise ProofError("an OTHER terminal holds the proven key itself")
    if (other_ikey ^ ikey) >> (MAX_DEPTH - depth):
        raise ProofError(f"an OTHER terminal's key does not share the first {depth} bits of the key")
    return other_ikey, keccak(_LEAF_PREFIX + other[0] + other[1])


def _hash_up(node: bytes, ikey: int, siblings: tuple[bytes, ...]) -> bytes:
    shift = 256 - len(siblings)
    for sibling in reversed(siblings):
        node = keccak(sibling + node) if (ikey >> shift) & 1 else keccak(node + sibling)
        shift += 1
    return node


def leaf_hash(key: bytes, value: bytes) -> bytes:
    """`H(0x00 ‖ key ‖ H(value))`, the hash of the leaf holding `value` at `key`."""
    _int_key(key)
    return keccak(_LEAF_PREFIX + key + keccak(value))


def verify_proof(root: bytes, key: bytes, value: bytes | None, proof: SmtProof) -> bool:
    """True when `proof` shows `key` holding `value` under `root` (`value is None`: `key` is absent).

    A malformed proof (wrong sizes, an OTHER terminal that is the key itself or off the key's path, an
    OTHER terminal with a claimed value) verifies as False. A key that is not 32 bytes raises ProofError.
    """
    ikey = _int_key(key)
    try:
        _check_siblings(proof.siblings)
        other = _other_terminal(proof, ikey)
    except ProofError:
        return False
    if value is not None:
        if other is not None:
            return False
        node = keccak(_LEAF_PREFIX + key + keccak(value))
    else:
        node = ZERO32 if other is None else other[1]
    return _hash_up(node, ikey, proof.siblings) == root


def root_after_update(key: bytes, old_value: bytes | None, new_value: bytes, proof: SmtProof) -> bytes:
    """The root after `key := new_value`, from `proof` alone (docs/spec.md, "Update from a proof").

    `proof` must already be verified against the old root for `(key, old_value)`; this checks only its
    shape and raises ProofError when it cannot be a proof of that claim.
    """
    ikey = _int_key(key)
    _check_siblings(proof.siblings)
    other = _other_terminal(proof, ikey)
    node = keccak(_LEAF_PREFIX + key + keccak(new_value))
    if other is not None:
        if old_value is not None:
            raise ProofError("a proof ending at another key's leaf cannot show a value for the key")
        other_ikey, other_leaf = other
        split = _split_depth(ikey, other_ikey)
        node = keccak(other_leaf + node) if (ikey >> (255 - split)) & 1 else keccak(node + other_leaf)
        for depth in range(split - 1, len(proof.siblings) - 1, -1):
            node = keccak(ZERO32 + node) if (ikey >> (255 - depth)) & 1 else keccak(node + ZERO32)
    return _hash_up(node, ikey, proof.siblings)


# --- the tree ------------------------------------------------------------------------------------


def _leaves(root: _Node) -> Iterator[tuple[bytes, bytes]]:
    """The `(key, value)` pairs below `root`, in ascending key order."""
    stack: list[_Node] = [root]
    while stack:
        node = stack.pop()
        if type(node) is _Internal:
            stack.append(node.right)
            stack.append(node.left)
        elif type(node) is _Leaf:
            yield node.key, node.value


class SparseMerkleTree:
    """An immutable map from 32-byte keys to byte strings with a sparse Merkle root.

    Writes return a new tree that shares all unchanged nodes with the old one.
    """

    __slots__ = ("_node", "_size")

    def __init__(self, _node: _Node = _EMPTY, _size: int = 0) -> None:
        """Internal: use `empty` or `from_items`."""
        self._node = _node
        self._size = _size

    @classmethod
    def empty(cls) -> SparseMerkleTree:
        """The tree with no keys; its root is 32 zero bytes."""
        return cls(_EMPTY, 0)

    @classmethod
    def from_items(cls, items: Iterable[tuple[bytes, bytes]]) -> SparseMerkleTree:
        """Build a tree from `(key, value)` pairs in one pass; for a repeated key the last value wins."""
        latest = dict(items)
        for key in latest:
            _int_key(key)
        # Equal-length byte strings sort as their big-endian integers; keys are distinct, so values
        # are never compared.
        leaves = [_Leaf(key, int.from_bytes(key, "big"), value) for key, value in sorted(latest.items())]
        return cls(_build(leaves, [leaf.ikey for leaf in leaves], 0, len(leaves), 0), len(leaves))

    @property
    def root(self) -> bytes:
        """The 32-byte root hash."""
        return self._node.hash

    def __len__(self) -> int:
        """The number of keys."""
        return self._size

    def __repr__(self) -> str:
        return f"SparseMerkleTree(root=0x{self.root.hex()}, keys={self._size})"

    def get(self, key: bytes) -> bytes | None:
        """The value at `key`, or None when the key is absent."""
        ikey = _int_key(key)
        node = self._node
        shift = 255
        while type(node) is _Internal:
            node = node.right if (ikey >> shift) & 1 else node.left
            shift -= 1
        if type(node) is _Leaf and node.ikey == ikey:
            return node.value
        return None

    def __contains__(self, key: object) -> bool:
        """True when `key` is present."""
        return isinstance(key, bytes) and self.get(key) is not None

    def set(self, key: bytes, value: bytes) -> SparseMerkleTree:
        """A new tree with `key := value`; `self` is unchanged. Writing the current value returns `self`."""
        ikey = _int_key(key)
        node = self._node
        path: list[_Internal] = []
        shift = 255
        while type(node) is _Internal:
            path.append(node)
            node = node.right if (ikey >> shift) & 1 else node.left
            shift -= 1
        size = self._size
        new: _Node
        if type(node) is _Leaf:
            if node.ikey == ikey:
                if node.value == value:
                    return self
                new = _Leaf(key, ikey, value)
            else:
                leaf = _Leaf(key, ikey, value)
                split = _split_depth(ikey, node.ikey)
                new = _Internal(node, leaf) if (ikey >> (255 - split)) & 1 else _Internal(leaf, node)
                new = _chain_up(new, ikey, 255 - shift, split)
                size += 1
        else:
            new = _Leaf(key, ikey, value)
            size += 1
        for parent in reversed(path):
            shift += 1
            new = _Internal(parent.left, new) if (ikey >> shift) & 1 else _Internal(new, parent.right)
        return SparseMerkleTree(new, size)

    def set_many(self, items: Iterable[tuple[bytes, bytes]]) -> SparseMerkleTree:
        """A new tree with every `(key, value)` written; for a repeated key the last value wins."""
        latest: dict[bytes, bytes] = {}
        for key, value in items:
            _int_key(key)
            latest[key] = value
        if not latest:
            return self
        batch = sorted((int.from_bytes(key, "big"), key, value) for key, value in latest.items())
        ikeys = [entry[0] for entry in batch]
        node, added = _merge(self._node, batch, ikeys, 0, len(batch), 0)
        if node is self._node:
            return self
        return SparseMerkleTree(node, self._size + added)

    def prove(self, key: bytes) -> SmtProof:
        """The proof of `key`: of its value when present, of its absence otherwise."""
        ikey = _int_key(key)
        node = self._node
        siblings: list[bytes] = []
        shift = 255
        while type(node) is _Internal:
            if (ikey >> shift) & 1:
                siblings.append(node.left.hash)
                node = node.right
            else:
                siblings.append(node.right.hash)
                node = node.left
            shift -= 1
        if type(node) is _Leaf and node.ikey != ikey:
            return SmtProof(tuple(siblings), node.key, node.value_hash)
        return SmtProof(tuple(siblings))

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every `(key, value)` pair in ascending key order."""
        return _leaves(self._node)

    def changes_since(self, before: SparseMerkleTree) -> list[tuple[bytes, bytes]]:
        """`(key, value)` of every leaf whose value differs from (or is absent in) `before`, in no
        particular order.

        Both trees are persistent and nodes sit at fixed positions, so they are walked together
        and an identical hash ends the descent: the cost follows the changed leaves times the
        depth, not the size of the state. Keys are never deleted, so the diff is a list of writes.
        """
        changes: list[tuple[bytes, bytes]] = []
        stack: list[tuple[_Node, _Node]] = [(before._node, self._node)]
        while stack:
            a, b = stack.pop()
            if a is b or a.hash == b.hash:
                continue
            if type(a) is _Internal and type(b) is _Internal:
                stack.append((a.left, b.left))
                stack.append((a.right, b.right))
                continue
            old = dict(_leaves(a))
            changes.extend((k, v) for k, v in _leaves(b) if old.get(k) != v)
        return changes
