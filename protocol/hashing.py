"""keccak-256 and the list Merkle tree of docs/spec.md section 1."""

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
