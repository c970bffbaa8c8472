"""State keys: `H(namespace ‖ fields)` (docs/spec.md section 2, "Keys").

Solidity twin: `l1_contracts/src/prover/Records.sol` (its `*Key` functions).
"""

from protocol.hashing import keccak

NS_META = 0x00
NS_ACCOUNT = 0x01
NS_TASK = 0x02
NS_COMMITMENT = 0x03
NS_TEST_CHUNK = 0x04
NS_MODEL = 0x05
NS_DATA_CHUNK = 0x06
NS_WITHDRAWAL = 0x07

META_KEY = keccak(bytes([NS_META]))


def account_key(address: bytes) -> bytes:
    """Key of an account leaf."""
    return keccak(bytes([NS_ACCOUNT]) + address)


def task_key(task_id: int) -> bytes:
    """Key of a task leaf."""
    return keccak(bytes([NS_TASK]) + task_id.to_bytes(8, "big"))


def commitment_key(task_id: int, miner: bytes) -> bytes:
    """Key of a miner's commitment (and score) on a task."""
    return keccak(bytes([NS_COMMITMENT]) + task_id.to_bytes(8, "big") + miner)


def test_chunk_key(task_id: int, chunk: int) -> bytes:
    """Key of one chunk of a task's revealed test set."""
    return keccak(bytes([NS_TEST_CHUNK]) + task_id.to_bytes(8, "big") + chunk.to_bytes(4, "big"))


def model_key(model_id: int) -> bytes:
    """Key of a shared model leaf."""
    return keccak(bytes([NS_MODEL]) + model_id.to_bytes(8, "big"))


def data_chunk_key(model_id: int, chunk: int) -> bytes:
    """Key of one chunk of a shared model's data points."""
    return keccak(bytes([NS_DATA_CHUNK]) + model_id.to_bytes(8, "big") + chunk.to_bytes(4, "big"))


def withdrawal_key(withdrawal_id: int) -> bytes:
    """Key of a withdrawal leaf, which L1 claims prove against a finalized root."""
    return keccak(bytes([NS_WITHDRAWAL]) + withdrawal_id.to_bytes(8, "big"))
