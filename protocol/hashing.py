"""keccak-256 and the list Merkle tree of docs/spec.md section 1.

Solidity twin: `l1_contracts/src/libraries/MerkleList.sol`.
"""

from collections.abc import Sequence

import sha3

from protocol.errors import ProofError

ZERO32 = b"\x00" * 32


def keccak(data: bytes) -> bytes:
    """keccak-256 of `data` (Ethereum's hash, not NIST SHA3-256)."""
    digest: bytes = sha3.keccak_256(data).digest()
    return digest


def _padded_width(n: int) -> int:
    width = 1
    while width < n:
        width <<= 1
    return width


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Root of `leaves` padded with zero leaves to a power of two; `ZERO32` for no leaves."""
    if not leaves:
        return ZERO32
    level = list(leaves)
    level.extend([ZERO32] * (_padded_width(len(level)) - len(level)))
    while len(level) > 1:
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def merkle_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Siblings of leaf `index`, bottom first."""
    if not 0 <= index < len(leaves):
        raise ProofError(f"leaf index {index} is outside a list of {len(leaves)} leaves")
    level = list(leaves)
    level.extend([ZERO32] * (_padded_width(len(level)) - len(level)))
    proof: list[bytes] = []
    while len(level) > 1:
        proof.append(level[index ^ 1])
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        index >>= 1
    return proof


def merkle_root_from_proof(leaf: bytes, index: int, count: int, proof: Sequence[bytes]) -> bytes:
    """Root implied by `leaf` at `index` of a list of `count` leaves and its bottom-first `proof`."""
    depth = _padded_width(count).bit_length() - 1
    if not 0 <= index < count or len(proof) != depth:
        raise ProofError(f"a proof for leaf {index} of {count} needs {depth} siblings, got {len(proof)}")
    node = leaf
    for sibling in proof:
        node = keccak(sibling + node) if index & 1 else keccak(node + sibling)
        index >>= 1
    return node


def verify_merkle_proof(root: bytes, leaf: bytes, index: int, count: int, proof: Sequence[bytes]) -> bool:
    """True when `proof` shows `leaf` at `index` of a `count`-leaf list under `root`."""
    try:
        return merkle_root_from_proof(leaf, index, count, proof) == root
    except ProofError:
        return False


def merkle_range_proof(leaves: Sequence[bytes], first: int, count: int) -> list[bytes]:
    """The siblings that prove leaves `[first, first + count)` of `leaves` against `merkle_root(leaves)`,
    in the order `merkle_root_from_range` consumes them: level by level from the bottom, at each level
    the left sibling (when the run starts at an odd index) before the right one (when it ends at one)."""
    if count < 1 or first < 0 or first + count > len(leaves):
        raise ProofError(f"leaves [{first}, {first + count}) are not a run of a list of {len(leaves)} leaves")
    level = list(leaves)
    level.extend([ZERO32] * (_padded_width(len(level)) - len(level)))
    lo, hi = first, first + count  # the run's nodes at this level: [lo, hi)
    proof: list[bytes] = []
    while len(level) > 1:
        if lo & 1:
            proof.append(level[lo - 1])
            lo -= 1
        if hi & 1:
            proof.append(level[hi])
            hi += 1
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        lo, hi = lo >> 1, hi >> 1
    return proof


def merkle_root_from_range(nodes: Sequence[bytes], first: int, total: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by `nodes` at leaves `[first, first + len(nodes))` of a `total`-leaf list and a
    `merkle_range_proof` of them; `ProofError` when the run is not in the list or the proof has too few or
    too many siblings. `MerkleList.rangeRoot` is the Solidity twin."""
    if not nodes or first < 0 or first + len(nodes) > total:
        raise ProofError(f"leaves [{first}, {first + len(nodes)}) are not a run of a list of {total} leaves")
    level = list(nodes)
    lo, width, used = first, _padded_width(total), 0
    while width > 1:
        if lo & 1:
            if used == len(proof):
                raise ProofError(f"the range proof ends after {used} siblings")
            level.insert(0, bytes(proof[used]))
            used += 1
            lo -= 1
        if (lo + len(level)) & 1:
            if used == len(proof):
                raise ProofError(f"the range proof ends after {used} siblings")
            level.append(bytes(proof[used]))
            used += 1
        level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        lo, width = lo >> 1, width >> 1
    if used != len(proof):
        raise ProofError(f"the range proof has {len(proof) - used} siblings too many")
    return level[0]
