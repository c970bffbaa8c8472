"""A task's hidden test set: its chunks, its chunk root, the commitment, and the RevealTestSet txs
that carry it (docs/spec.md section 6).

A test set of `n` samples is cut into chunks of `k = spec.chunk_size` samples, each stored as
`(i32 × inputs ‖ i32 label)` rows; `testRoot` is the list Merkle root of the chunks' hashes and the
submitter commits to `H(testRoot ‖ u32 n ‖ salt)`. It is revealed in order, a run of whole chunks a
tx (at most `MAX_REVEAL_CHUNKS` chunks and `MAX_REVEAL_VALUES` values), each run proven against
`testRoot` by a `merkle_range_proof`, so no single tx (or L1 proof step) grows with the test set.

Solidity twin: `l1_contracts/src/libraries/TestSetRows.sol` (`chunks_of_test_set`, `root_of_test_set`).
"""

from __future__ import annotations

from protocol import params
from protocol.hashing import keccak, merkle_range_proof, merkle_root
from protocol.models import ModelSpec
from protocol.records import encode_rows
from protocol.tensors import IntTensor
from protocol.txs import RevealTestSet


def commitment_to_test_set(test_root: bytes, n: int, salt: bytes) -> bytes:
    """What a submitter commits to at CreateTask: `H(testRoot ‖ u32 n ‖ salt)`."""
    return keccak(test_root + n.to_bytes(4, "big") + salt)


def chunks_of_test_set(spec: ModelSpec, features: IntTensor, labels: IntTensor) -> list[bytes]:
    """The stored chunks of a test set: `chunk_size` samples of `(i32 × inputs ‖ i32 label)`."""
    rows = [(*row, label) for row, label in zip(features.rows(), labels.values, strict=True)]
    k = spec.chunk_size
    return [encode_rows(rows[i : i + k]) for i in range(0, len(rows), k)]


def root_of_test_set(spec: ModelSpec, features: IntTensor, labels: IntTensor) -> bytes:
    """`testRoot`: the list Merkle root of the test chunks' hashes."""
    return merkle_root([keccak(c) for c in chunks_of_test_set(spec, features, labels)])


def test_set_commitment(spec: ModelSpec, features: IntTensor, labels: IntTensor, salt: bytes) -> bytes:
    """The `testCommitment` of CreateTask for this test set and salt."""
    return commitment_to_test_set(root_of_test_set(spec, features, labels), labels.shape[0], salt)


def chunks_per_reveal(spec: ModelSpec) -> int:
    """The most chunks one RevealTestSet may carry for this architecture (at least one)."""
    values_per_chunk = spec.chunk_size * (spec.inputs + 1)
    return max(1, min(params.MAX_REVEAL_CHUNKS, params.MAX_REVEAL_VALUES // values_per_chunk))


def reveal_txs(
    spec: ModelSpec,
    task_id: int,
    salt: bytes,
    features: IntTensor,
    labels: IntTensor,
    nonce: int = 0,
    chunks_per_tx: int | None = None,
    *,
    max_fee_price: int,
) -> list[RevealTestSet]:
    """The RevealTestSet txs that reveal the whole test set, in the order they must run, with nonces
    `nonce, nonce + 1, …`. `chunks_per_tx` (default: as many as one tx may carry) sets the run length;
    each tx signs `max_fee_price`."""
    _check_shape(spec, features, labels)
    leaves = [keccak(c) for c in chunks_of_test_set(spec, features, labels)]
    run = chunks_per_tx or chunks_per_reveal(spec)
    return [
        _run(
            spec,
            task_id,
            salt,
            features,
            labels,
            leaves,
            first,
            min(run, len(leaves) - first),
            nonce + i,
            max_fee_price,
        )
        for i, first in enumerate(range(0, len(leaves), run))
    ]


def reveal_run(
    spec: ModelSpec,
    task_id: int,
    salt: bytes,
    features: IntTensor,
    labels: IntTensor,
    first_chunk: int,
    count: int,
    nonce: int = 0,
    *,
    max_fee_price: int,
) -> RevealTestSet:
    """The RevealTestSet of chunks `[first_chunk, first_chunk + count)` of the test set, with their range
    proof (it is not checked against the caps: a test may build one past them)."""
    _check_shape(spec, features, labels)
    leaves = [keccak(c) for c in chunks_of_test_set(spec, features, labels)]
    return _run(spec, task_id, salt, features, labels, leaves, first_chunk, count, nonce, max_fee_price)


def _check_shape(spec: ModelSpec, features: IntTensor, labels: IntTensor) -> None:
    n = labels.shape[0]
    if features.shape != (n, spec.inputs):
        raise ValueError(f"features must be ({n}, {spec.inputs}), got {features.shape}")


def _run(
    spec: ModelSpec,
    task_id: int,
    salt: bytes,
    features: IntTensor,
    labels: IntTensor,
    leaves: list[bytes],
    first_chunk: int,
    count: int,
    nonce: int,
    max_fee_price: int,
) -> RevealTestSet:
    n = labels.shape[0]
    k, d = spec.chunk_size, spec.inputs
    lo, hi = first_chunk * k, min(n, (first_chunk + count) * k)
    part_x = IntTensor((hi - lo, d), features.values[lo * d : hi * d])
    part_y = IntTensor((hi - lo,), labels.values[lo:hi])
    proof = tuple(merkle_range_proof(leaves, first_chunk, count))
    return RevealTestSet(
        nonce, task_id, salt, n, merkle_root(leaves), first_chunk, part_x, part_y, proof, max_fee_price
    )


def reveal_tx(
    spec: ModelSpec,
    task_id: int,
    salt: bytes,
    features: IntTensor,
    labels: IntTensor,
    nonce: int,
    *,
    max_fee_price: int,
) -> RevealTestSet:
    """The one RevealTestSet that reveals a test set small enough for one tx (`ValueError` otherwise)."""
    txs = reveal_txs(spec, task_id, salt, features, labels, nonce, max_fee_price=max_fee_price)
    if len(txs) != 1:
        raise ValueError(f"this test set takes {len(txs)} RevealTestSet txs: use reveal_txs")
    return txs[0]
