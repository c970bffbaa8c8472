"""EIP-712 signing and recovery (docs/spec.md section 3, "Signing"), checked against eth-account."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address as eth_utils_checksum
from hypothesis import given
from hypothesis import strategies as st

from protocol.codec import decode_tx, encode_tx
from protocol.errors import CodecError, SignatureError
from protocol.hashing import keccak
from protocol.params import SECP256K1_N
from protocol.signing import (
    DOMAIN_TYPE,
    Domain,
    address_from_hex,
    address_of,
    recover_sender,
    sign_tx,
    signing_digest,
    struct_hash,
    to_checksum_address,
    type_hash,
    type_string,
    typed_data,
)
from protocol.tensors import IntTensor
from protocol.txs import CreateTask, RevealModel, SignedTx, Transfer, Tx, TxType
from tests.support.domain import DOMAIN
from tests.support.examples import EXAMPLES
from tests.support.fees import FEE_PRICE
from tests.support.strategies import txs

KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")  # anvil/hardhat #0
KEY_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
_P = 2**256 - 2**32 - 977  # the secp256k1 field prime

private_keys = st.integers(1, SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))

SPEC_TYPES = {
    TxType.TRANSFER: "Transfer(uint64 nonce,address to,uint128 amount,uint64 maxFeePrice)",
    TxType.WITHDRAW: "Withdraw(uint64 nonce,address recipient,uint128 amount,uint64 maxFeePrice)",
    TxType.CREATE_TASK: (
        "CreateTask(uint64 nonce,uint8 arch,uint16 inputs,uint16 hidden,uint16 outputs,uint128 reward,"
        "uint64 commitDeadline,uint64 revealDeadline,bytes32 testCommitment,bytes32 trainDataRef,"
        "uint64 maxFeePrice)"
    ),
    TxType.COMMIT_MODEL: "CommitModel(uint64 nonce,uint64 taskId,bytes32 commitment,uint64 maxFeePrice)",
    TxType.REVEAL_TEST_SET: (
        "RevealTestSet(uint64 nonce,uint64 taskId,bytes32 salt,uint32 nTest,bytes32 testRoot,"
        "uint32 firstChunk,bytes features,bytes labels,bytes32[] proof,uint64 maxFeePrice)"
    ),
    TxType.REVEAL_MODEL: (
        "RevealModel(uint64 nonce,uint64 taskId,bytes32 salt,bytes weights,uint64 maxFeePrice)"
    ),
    TxType.FINALIZE_TASK: "FinalizeTask(uint64 nonce,uint64 taskId,uint64 maxFeePrice)",
    TxType.CREATE_MODEL: (
        "CreateModel(uint64 nonce,uint8 nFeatures,uint32 learningRate,bytes weights,uint64 maxFeePrice)"
    ),
    TxType.ADD_DATA: "AddData(uint64 nonce,uint64 modelId,bytes xs,bytes ys,uint64 maxFeePrice)",
    TxType.TRAIN: "Train(uint64 nonce,uint64 modelId,uint32 epochs,uint64 maxFeePrice)",
}


def eth_account_digest(domain: Domain, tx: Tx) -> bytes:
    message = encode_typed_data(full_message=typed_data(domain, tx))
    assert message.version == b"\x01"
    assert message.header == domain.separator
    assert message.body == struct_hash(tx)
    return keccak(b"\x19" + message.version + message.header + message.body)


# --- types and digests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tx_type", list(TxType))
def test_type_strings_match_spec(tx_type: TxType) -> None:
    assert type_string(tx_type) == SPEC_TYPES[tx_type]
    assert type_hash(tx_type) == keccak(SPEC_TYPES[tx_type].encode())


def test_domain_separator_by_hand() -> None:
    expected = keccak(
        keccak(DOMAIN_TYPE.encode())
        + keccak(b"mlrollup")
        + keccak(b"1")
        + (31337).to_bytes(32, "big")
        + bytes(12)
        + DOMAIN.verifying_contract
    )
    assert DOMAIN.separator == expected
    assert Domain.from_hex(31337, to_checksum_address(DOMAIN.verifying_contract)) == DOMAIN
    with pytest.raises(ValueError):
        Domain(1, b"\x00" * 19)


def test_transfer_struct_hash_by_hand() -> None:
    tx = Transfer(7, b"\x11" * 20, 10**18, max_fee_price=FEE_PRICE)
    expected = keccak(
        keccak(SPEC_TYPES[TxType.TRANSFER].encode())
        + (7).to_bytes(32, "big")
        + bytes(12)
        + b"\x11" * 20
        + (10**18).to_bytes(32, "big")
        + FEE_PRICE.to_bytes(32, "big")
    )
    assert struct_hash(tx) == expected
    assert signing_digest(DOMAIN, tx) == keccak(b"\x19\x01" + DOMAIN.separator + expected)


def test_tensor_field_hashes_its_encoding() -> None:
    tx = RevealModel(1, 2, b"\x03" * 32, IntTensor.vector([1, -1]), max_fee_price=FEE_PRICE)
    weights = bytes([1, 0, 0, 0, 2, 1, 1, 0xFF])
    expected = keccak(
        type_hash(TxType.REVEAL_MODEL)
        + (1).to_bytes(32, "big")
        + (2).to_bytes(32, "big")
        + b"\x03" * 32
        + keccak(weights)
        + FEE_PRICE.to_bytes(32, "big")
    )
    assert struct_hash(tx) == expected
    assert typed_data(DOMAIN, tx)["message"]["weights"] == "0x" + weights.hex()


@pytest.mark.parametrize("tx", EXAMPLES, ids=lambda tx: type(tx).__name__)
def test_digest_matches_eth_account_examples(tx: Tx) -> None:
    assert signing_digest(DOMAIN, tx) == eth_account_digest(DOMAIN, tx)


@given(txs(), st.integers(1, 2**64), st.binary(min_size=20, max_size=20))
def test_digest_matches_eth_account(tx: Tx, chain_id: int, contract: bytes) -> None:
    domain = Domain(chain_id, contract)
    assert signing_digest(domain, tx) == eth_account_digest(domain, tx)


def test_struct_hash_rejects_values_outside_their_type() -> None:
    with pytest.raises(SignatureError):
        struct_hash(Transfer(2**64, b"\x00" * 20, 0, max_fee_price=FEE_PRICE))
    with pytest.raises(SignatureError):
        struct_hash(Transfer(0, b"\x00" * 19, 0, max_fee_price=FEE_PRICE))
    with pytest.raises(CodecError):
        struct_hash(RevealModel(0, 0, b"\x00" * 32, IntTensor.matrix([[1]]), max_fee_price=FEE_PRICE))


# --- signing and recovery ----------------------------------------------------------------------------


def test_known_key() -> None:
    assert to_checksum_address(address_of(KEY)) == KEY_ADDRESS
    signed = sign_tx(DOMAIN, Transfer(0, b"\x22" * 20, 5, max_fee_price=FEE_PRICE), KEY)
    assert to_checksum_address(recover_sender(DOMAIN, signed)) == KEY_ADDRESS


@given(txs(), private_keys)
def test_sign_recover_round_trip(tx: Tx, key: bytes) -> None:
    signed = sign_tx(DOMAIN, tx, key)
    assert signed.v in (27, 28)
    assert 0 < signed.s <= SECP256K1_N // 2
    assert signed.encoded == encode_tx(SignedTx(tx, signed.r, signed.s, signed.v))
    decoded = decode_tx(signed.encoded)
    assert decoded == signed
    assert recover_sender(DOMAIN, decoded) == address_of(key)


@pytest.mark.parametrize("tx", EXAMPLES, ids=lambda tx: type(tx).__name__)
def test_eth_account_agrees(tx: Tx) -> None:
    key = keccak(type(tx).__name__.encode())
    account = Account.from_key(key)
    assert account.address == to_checksum_address(address_of(key))
    full = typed_data(DOMAIN, tx)
    theirs = Account.sign_typed_data(key, full_message=full)
    ours = sign_tx(DOMAIN, tx, key)
    assert theirs.message_hash == signing_digest(DOMAIN, tx)
    # Both sign deterministically (RFC 6979) with low s, so the signatures are the same.
    assert (theirs.r, theirs.s, theirs.v) == (ours.r, ours.s, ours.v)
    signature = ours.r.to_bytes(32, "big") + ours.s.to_bytes(32, "big") + bytes([ours.v])
    assert (
        Account.recover_message(encode_typed_data(full_message=full), signature=signature) == account.address
    )
    assert recover_sender(DOMAIN, SignedTx(tx, theirs.r, theirs.s, theirs.v)) == address_of(key)


def test_other_domain_recovers_another_address() -> None:
    tx = EXAMPLES[2]
    signed = sign_tx(DOMAIN, tx, KEY)
    me = address_of(KEY)
    assert recover_sender(DOMAIN, signed) == me
    assert recover_sender(Domain(1, DOMAIN.verifying_contract), signed) != me
    assert recover_sender(Domain(31337, b"\x01" * 20), signed) != me
    assert isinstance(tx, CreateTask)
    other_tx = dataclasses.replace(tx, nonce=tx.nonce + 1)
    assert recover_sender(DOMAIN, SignedTx(other_tx, signed.r, signed.s, signed.v)) != me


def test_rejects_high_s_zero_and_out_of_range() -> None:
    signed = sign_tx(DOMAIN, EXAMPLES[0], KEY)
    # (r, n - s, flipped v) is the same signature's malleated twin: valid ECDSA, rejected by EIP-2.
    twin = SignedTx(signed.tx, signed.r, SECP256K1_N - signed.s, 55 - signed.v)
    with pytest.raises(SignatureError, match="n/2"):
        recover_sender(DOMAIN, twin)
    for r, s in ((0, signed.s), (signed.r, 0), (SECP256K1_N, signed.s), (2**256 - 1, signed.s)):
        with pytest.raises(SignatureError):
            recover_sender(DOMAIN, SignedTx(signed.tx, r, s, signed.v))
    with pytest.raises(SignatureError, match="v ="):
        recover_sender(DOMAIN, SignedTx(signed.tx, signed.r, signed.s, 29))
    # An r that is no point's x coordinate does not recover.
    bad_r = next(x for x in range(1, 100) if pow(x**3 + 7, (_P - 1) // 2, _P) == _P - 1)
    with pytest.raises(SignatureError, match="recover"):
        recover_sender(DOMAIN, SignedTx(signed.tx, bad_r, signed.s, signed.v))
    # The boundary s = n // 2 itself is allowed by the range check.
    try:
        recover_sender(DOMAIN, SignedTx(signed.tx, signed.r, SECP256K1_N // 2, signed.v))
    except SignatureError as exc:
        assert "n/2" not in str(exc)


def test_sign_rejects_bad_key_and_unencodable_tx() -> None:
    for bad in (bytes(32), SECP256K1_N.to_bytes(32, "big"), b"\x01" * 31):
        with pytest.raises(SignatureError):
            sign_tx(DOMAIN, EXAMPLES[0], bad)
    with pytest.raises(CodecError):
        sign_tx(
            DOMAIN, CreateTask(0, 4, 1, 0, 0, 0, 0, 1, bytes(32), bytes(32), max_fee_price=FEE_PRICE), KEY
        )


# --- addresses ------------------------------------------------------------------------------------------


@given(st.binary(min_size=20, max_size=20))
def test_checksum_matches_eth_utils(address: bytes) -> None:
    text = to_checksum_address(address)
    assert text == eth_utils_checksum(address)
    assert address_from_hex(text) == address
    assert address_from_hex(text.lower()) == address
    assert address_from_hex("0x" + text[2:].upper()) == address


def test_address_from_hex_rejects_bad_input() -> None:
    bad_checksum = KEY_ADDRESS[:2] + KEY_ADDRESS[2:].swapcase()
    with pytest.raises(ValueError, match="checksum"):
        address_from_hex(bad_checksum)
    with pytest.raises(ValueError):
        address_from_hex("0x1234")
    with pytest.raises(ValueError):
        to_checksum_address(b"\x00" * 21)
