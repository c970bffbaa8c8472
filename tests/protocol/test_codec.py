"""Tx codec, batch framing and deposits (docs/spec.md sections 3 and 4), on random valid txs of every
type (`tests.support.strategies`) and one fixed example of each (`tests.support.examples`)."""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.codec import (
    TX_FIELDS,
    BatchHeader,
    batch_data_hash,
    batch_data_hash_from_root,
    decode_batch,
    decode_tx,
    encode_batch,
    encode_tx,
    encode_unsigned_body,
    tx_inclusion_proof,
    tx_leaves,
    tx_root,
)
from protocol.deposits import Deposit, deposit_hash, encode_deposit, rolling_hash, rolling_hashes
from protocol.encoding import Writer
from protocol.errors import CodecError
from protocol.hashing import ZERO32, keccak, verify_merkle_proof
from protocol.params import (
    ELEMENT_MAX,
    MAX_BATCH_TXS,
    MAX_RANGE_PROOF,
    MAX_TENSOR_ELEMENTS,
    MAX_TX_BYTES,
    SHARED_LR_MAX,
    SHARED_MAX_FEATURES,
    SHARED_W_MAX,
    SHARED_X_MAX,
)
from protocol.tensors import IntTensor
from protocol.txs import (
    TX_CLASSES,
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    RevealModel,
    RevealTestSet,
    SignedTx,
    Train,
    Transfer,
    Tx,
    TxType,
)
from tests.support.examples import EXAMPLES
from tests.support.fees import FEE_PRICE
from tests.support.strategies import TX_STRATEGIES, signed_txs

SIG = (0x1234, 0x5678, 27)


def sign_fake(tx: Tx, v: int = 27) -> SignedTx:
    return SignedTx(tx, SIG[0], SIG[1], v)


def test_examples_cover_every_type() -> None:
    assert [tx.TYPE for tx in EXAMPLES] == list(TxType)
    assert set(TX_CLASSES) == set(TxType) == set(TX_FIELDS) == set(TX_STRATEGIES)


# --- round trips -------------------------------------------------------------------------------------


@given(signed_txs())
def test_round_trip(signed: SignedTx) -> None:
    enc = encode_tx(signed)
    decoded = decode_tx(enc)
    assert decoded == signed
    assert decoded.encoded == enc == signed.encoded
    assert decoded.hash == keccak(enc) == signed.hash
    assert enc[0] == signed.tx.TYPE
    assert enc[:-65] == encode_unsigned_body(signed.tx)
    assert decode_tx(memoryview(bytearray(enc))) == signed


@pytest.mark.parametrize("tx_type", list(TxType))
@given(data=st.data())
def test_round_trip_per_type(tx_type: TxType, data: st.DataObject) -> None:
    signed = data.draw(signed_txs(tx_type))
    assert decode_tx(encode_tx(signed)) == signed


def test_transfer_exact_bytes() -> None:
    signed = SignedTx(Transfer(7, b"\x11" * 20, 10**18, max_fee_price=FEE_PRICE), 1, 2, 28)
    expected = (
        b"\x01"
        + (7).to_bytes(8, "big")
        + b"\x11" * 20
        + (10**18).to_bytes(16, "big")
        + FEE_PRICE.to_bytes(8, "big")  # max_fee_price, every tx's last field
        + (1).to_bytes(32, "big")
        + (2).to_bytes(32, "big")
        + b"\x1c"
    )
    assert encode_tx(signed) == expected
    assert len(expected) == 118


def test_reveal_test_set_exact_bytes() -> None:
    tx = EXAMPLES[4]
    assert isinstance(tx, RevealTestSet)
    body = (
        b"\x05"
        + (3).to_bytes(8, "big")
        + (9).to_bytes(8, "big")
        + b"\x66" * 32
        + (5).to_bytes(4, "big")
        + b"\x88" * 32
        + (1).to_bytes(4, "big")
        + bytes([2, 0, 0, 0, 2, 0, 0, 0, 2, 2])
        + struct.pack(">4h", 1, -2, 300, 4)
        + bytes([1, 0, 0, 0, 2, 1, 0, 1])
        + bytes([2])
        + b"\x99" * 32
        + b"\xaa" * 32
        + FEE_PRICE.to_bytes(8, "big")
    )
    assert encode_unsigned_body(tx) == body


def test_range_proof_field_bounded() -> None:
    """The proof of a RevealTestSet holds at most MAX_RANGE_PROOF hashes, on encoding and decoding."""
    tx = EXAMPLES[4]
    assert isinstance(tx, RevealTestSet)
    longest = replace(tx, proof=(ZERO32,) * MAX_RANGE_PROOF)
    assert decode_tx(encode_tx(sign_fake(longest))).tx == longest
    with pytest.raises(CodecError, match="proof"):
        encode_tx(sign_fake(replace(tx, proof=(ZERO32,) * (MAX_RANGE_PROOF + 1))))
    body = encode_unsigned_body(longest)
    raw = (
        body[: -9 - 32 * MAX_RANGE_PROOF]  # the body less its proof and max_fee_price
        + bytes([MAX_RANGE_PROOF + 1])
        + b"\x00" * 32 * (MAX_RANGE_PROOF + 1)
        + body[-8:]
    )
    with pytest.raises(CodecError, match="exceed"):
        decode_tx(raw + b"\x00" * 65)


# --- rejections ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tx", EXAMPLES, ids=lambda tx: type(tx).__name__)
def test_rejects_every_truncation_and_trailing_bytes(tx: Tx) -> None:
    enc = encode_tx(sign_fake(tx))
    for cut in range(len(enc)):
        with pytest.raises(CodecError):
            decode_tx(enc[:cut])
    for extra in (b"\x00", b"\x1b", b"\x00" * 40):
        with pytest.raises(CodecError, match="trailing"):
            decode_tx(enc + extra)


@pytest.mark.parametrize("type_byte", [0, 11, 12, 128, 255])
def test_rejects_unknown_type(type_byte: int) -> None:
    enc = encode_tx(sign_fake(EXAMPLES[0]))
    with pytest.raises(CodecError, match="unknown tx type"):
        decode_tx(bytes([type_byte]) + enc[1:])


@pytest.mark.parametrize("v", [0, 1, 26, 29, 35, 255])
def test_rejects_bad_v(v: int) -> None:
    enc = encode_tx(sign_fake(EXAMPLES[0]))
    with pytest.raises(CodecError, match="v ="):
        decode_tx(enc[:-1] + bytes([v]))
    with pytest.raises(CodecError, match="v ="):
        encode_tx(SignedTx(EXAMPLES[0], 1, 1, v))


def _patch(tx: Tx, offset: int, value: bytes) -> bytes:
    """The encoding of `tx`, with `value` written over its bytes at `offset`."""
    enc = bytearray(encode_tx(sign_fake(tx)))
    enc[offset : offset + len(value)] = value
    return bytes(enc)


@pytest.mark.parametrize("arch", [0, 4, 255])
def test_rejects_arch(arch: int) -> None:
    with pytest.raises(CodecError, match="arch"):
        decode_tx(_patch(EXAMPLES[2], 9, bytes([arch])))
    bad = CreateTask(1, arch, 4, 8, 3, 500, 100, 200, b"\x33" * 32, b"\x44" * 32, max_fee_price=FEE_PRICE)
    with pytest.raises(CodecError, match="arch"):
        encode_tx(sign_fake(bad))


@pytest.mark.parametrize("n_features", [0, SHARED_MAX_FEATURES + 1, 255])
def test_rejects_n_features(n_features: int) -> None:
    with pytest.raises(CodecError, match="n_features"):
        decode_tx(_patch(EXAMPLES[7], 9, bytes([n_features])))
    with pytest.raises(CodecError, match="n_features"):
        encode_tx(sign_fake(CreateModel(0, n_features, 0, IntTensor.vector([0]), max_fee_price=FEE_PRICE)))


@pytest.mark.parametrize("lr", [SHARED_LR_MAX + 1, 2**32 - 1])
def test_rejects_learning_rate(lr: int) -> None:
    with pytest.raises(CodecError, match="learning_rate"):
        decode_tx(_patch(EXAMPLES[7], 10, lr.to_bytes(4, "big")))
    with pytest.raises(CodecError, match="learning_rate"):
        encode_tx(sign_fake(CreateModel(0, 1, lr, IntTensor.vector([0, 0]), max_fee_price=FEE_PRICE)))
    at_max = decode_tx(_patch(EXAMPLES[7], 10, SHARED_LR_MAX.to_bytes(4, "big"))).tx
    assert isinstance(at_max, CreateModel) and at_max.learning_rate == SHARED_LR_MAX


def test_rejects_integers_too_wide_for_their_field_on_encode() -> None:
    for bad in (
        Transfer(2**64, b"\x00" * 20, 0, max_fee_price=FEE_PRICE),
        Transfer(-1, b"\x00" * 20, 0, max_fee_price=FEE_PRICE),
        Transfer(0, b"\x00" * 20, 2**128, max_fee_price=FEE_PRICE),
        CreateTask(0, 1, 2**16, 0, 0, 0, 0, 0, ZERO32, ZERO32, max_fee_price=FEE_PRICE),
        Train(0, 0, 2**32, max_fee_price=FEE_PRICE),
    ):
        with pytest.raises(CodecError):
            encode_tx(sign_fake(bad))
    for bad_bytes in (
        Transfer(0, b"\x00" * 19, 0, max_fee_price=FEE_PRICE),
        CommitModel(0, 0, b"\x00" * 33, max_fee_price=FEE_PRICE),
    ):
        with pytest.raises(CodecError):
            encode_tx(sign_fake(bad_bytes))
    with pytest.raises(CodecError):
        encode_tx(SignedTx(EXAMPLES[0], 2**256, 1, 27))


def _reveal_model_bytes(tensor: bytes) -> bytes:
    """A RevealModel whose weights field is the raw `tensor` bytes."""
    return (
        Writer()
        .u8(TxType.REVEAL_MODEL)
        .u64(1)
        .u64(2)
        .b32(b"\x00" * 32)
        .raw(tensor)
        .u64(FEE_PRICE)
        .u256(1)
        .u256(1)
        .u8(27)
        .getvalue()
    )


def _tensor_header(rank: int, dims: tuple[int, ...], width: int) -> bytes:
    return bytes([rank]) + b"".join(d.to_bytes(4, "big") for d in dims) + bytes([width])


def test_hand_built_reveal_model_decodes() -> None:
    signed = decode_tx(_reveal_model_bytes(_tensor_header(1, (2,), 1) + bytes([1, 0xFF])))
    assert signed.tx == RevealModel(1, 2, b"\x00" * 32, IntTensor.vector([1, -1]), max_fee_price=FEE_PRICE)


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        (_tensor_header(1, (2,), 2) + struct.pack(">2h", 1, -1), "minimal"),
        (_tensor_header(1, (0,), 8), "minimal"),
        (_tensor_header(1, (1,), 4) + struct.pack(">i", ELEMENT_MAX + 1), "exceeds"),
        (_tensor_header(1, (1,), 4) + struct.pack(">i", -ELEMENT_MAX - 1), "exceeds"),
        (_tensor_header(1, (1,), 3) + b"\x00\x00\x01", "width"),
        (_tensor_header(2, (1, 1), 1) + b"\x01", "rank"),
        (_tensor_header(1, (MAX_TENSOR_ELEMENTS + 1,), 1), "MAX_TENSOR_ELEMENTS"),
        (_tensor_header(1, (70_000,), 1), "MAX_TENSOR_DIM"),
        (_tensor_header(1, (200,), 1) + b"\x00" * 4, "elements"),
    ],
)
def test_rejects_bad_tensor_field(tensor: bytes, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        decode_tx(_reveal_model_bytes(tensor))


def test_rejects_tensor_rank_and_bounds_per_field() -> None:
    # labels must be rank 1, features rank 2; xs/ys bounded by SHARED_X_MAX; shared weights by SHARED_W_MAX.
    salt = b"\x00" * 32
    m, v = IntTensor.matrix([[1]]), IntTensor.vector([1])
    for bad in (
        RevealTestSet(0, 0, salt, 1, salt, 0, v, v, (), max_fee_price=FEE_PRICE),
        RevealTestSet(0, 0, salt, 1, salt, 0, m, m, (), max_fee_price=FEE_PRICE),
        RevealModel(0, 0, salt, m, max_fee_price=FEE_PRICE),
        RevealModel(0, 0, salt, IntTensor.vector([ELEMENT_MAX + 1]), max_fee_price=FEE_PRICE),
        AddData(0, 0, IntTensor.matrix([[SHARED_X_MAX + 1]]), v, max_fee_price=FEE_PRICE),
        AddData(0, 0, m, IntTensor.vector([-SHARED_X_MAX - 1]), max_fee_price=FEE_PRICE),
        CreateModel(0, 1, 0, IntTensor.vector([0, SHARED_W_MAX + 1]), max_fee_price=FEE_PRICE),
    ):
        with pytest.raises(CodecError):
            encode_tx(sign_fake(bad))
    # The same bytes with SHARED_W_MAX elements: fine for CreateModel, out of bound elsewhere.
    big = IntTensor.vector([SHARED_W_MAX])
    enc = encode_tx(sign_fake(CreateModel(0, 1, 0, big, max_fee_price=FEE_PRICE)))
    assert decode_tx(enc).tx == CreateModel(0, 1, 0, big, max_fee_price=FEE_PRICE)


def test_max_tx_bytes() -> None:
    # A RevealTestSet with features (n, 1) of width 4, m width-1 labels and no proof is 179 + 4n + m
    # bytes long: type 1 + nonce 8 + taskId 8 + salt 32 + nTest 4 + testRoot 32 + firstChunk 4 + heads
    # 10 + 6 + proof count 1 + maxFeePrice 8 + signature 65.
    budget = MAX_TX_BYTES - 179
    n = min(MAX_TENSOR_ELEMENTS, budget // 4)
    m = budget - 4 * n
    if m + 1 > MAX_TENSOR_ELEMENTS:
        pytest.skip("MAX_TX_BYTES is beyond the largest tx the tensor limits allow")

    def reveal(labels: int) -> RevealTestSet:
        x, y = IntTensor((n, 1), (40_000,) * n), IntTensor.vector([1] * labels)
        return RevealTestSet(0, 0, ZERO32, 0, ZERO32, 0, x, y, (), max_fee_price=FEE_PRICE)

    enc = encode_tx(sign_fake(reveal(m)))
    assert len(enc) == MAX_TX_BYTES
    assert decode_tx(enc).tx == reveal(m)
    with pytest.raises(CodecError, match="MAX_TX_BYTES"):
        encode_tx(sign_fake(reveal(m + 1)))
    raw = encode_unsigned_body(reveal(m + 1)) + enc[-65:]
    assert len(raw) == MAX_TX_BYTES + 1
    with pytest.raises(CodecError, match="MAX_TX_BYTES"):
        decode_tx(raw)
    with pytest.raises(CodecError):
        decode_tx(b"")


@given(signed_txs(), st.data())
def test_mutation_is_rejected_or_canonical(signed: SignedTx, data: st.DataObject) -> None:
    """Any one-byte change either fails to decode or decodes to a tx whose encoding is the new bytes."""
    enc = bytearray(encode_tx(signed))
    i = data.draw(st.integers(0, len(enc) - 1))
    enc[i] = data.draw(st.integers(0, 255).filter(lambda b: b != enc[i]))
    mutated = bytes(enc)
    try:
        decoded = decode_tx(mutated)
    except CodecError:
        return
    assert encode_tx(SignedTx(decoded.tx, decoded.r, decoded.s, decoded.v)) == mutated


@given(st.sampled_from(list(TxType)), st.binary(max_size=200))
def test_arbitrary_bytes_are_rejected_or_canonical(tx_type: TxType, body: bytes) -> None:
    data = bytes([tx_type]) + body
    try:
        decoded = decode_tx(data)
    except CodecError:
        return
    assert encode_tx(SignedTx(decoded.tx, decoded.r, decoded.s, decoded.v)) == data


# --- batches ---------------------------------------------------------------------------------------------


@given(st.integers(0, 2**64 - 1), st.lists(st.binary(max_size=300), max_size=20))
def test_batch_round_trip(timestamp: int, raw_txs: list[bytes]) -> None:
    data = encode_batch(timestamp, raw_txs)
    header, out = decode_batch(data)
    assert header == BatchHeader(1, timestamp, len(raw_txs))
    assert out == raw_txs
    assert len(data) == 13 + sum(3 + len(t) for t in raw_txs)


def test_batch_exact_bytes_and_raw_txs_not_decoded() -> None:
    garbage = b"\xff\x00"
    good = encode_tx(sign_fake(EXAMPLES[0]))
    data = encode_batch(1_700_000_000, [good, garbage, b""])
    assert data == (
        b"\x01"
        + (1_700_000_000).to_bytes(8, "big")
        + (3).to_bytes(4, "big")
        + len(good).to_bytes(3, "big")
        + good
        + b"\x00\x00\x02"
        + garbage
        + b"\x00\x00\x00"
    )
    assert decode_batch(data)[1] == [good, garbage, b""]


def test_batch_framing_errors() -> None:
    data = encode_batch(5, [b"abc", b"de"])
    with pytest.raises(CodecError, match="trailing"):
        decode_batch(data + b"\x00")
    for cut in range(len(data)):
        with pytest.raises(CodecError):
            decode_batch(data[:cut])
    more = bytearray(data)
    more[9:13] = (3).to_bytes(4, "big")  # claims three txs, holds two
    with pytest.raises(CodecError):
        decode_batch(bytes(more))
    fewer = bytearray(data)
    fewer[9:13] = (1).to_bytes(4, "big")  # claims one tx, holds two
    with pytest.raises(CodecError, match="trailing"):
        decode_batch(bytes(fewer))
    past_end = bytearray(data)
    past_end[13:16] = (100).to_bytes(3, "big")  # first length runs past the end
    with pytest.raises(CodecError, match="tx 0 bytes"):
        decode_batch(bytes(past_end))
    with pytest.raises(CodecError, match="version"):
        decode_batch(b"\x02" + data[1:])
    too_many = b"\x01" + bytes(8) + (MAX_BATCH_TXS + 1).to_bytes(4, "big")
    with pytest.raises(CodecError, match="MAX_BATCH_TXS"):
        decode_batch(too_many)
    too_long = b"\x01" + bytes(8) + (1).to_bytes(4, "big") + (MAX_TX_BYTES + 1).to_bytes(3, "big")
    with pytest.raises(CodecError, match="MAX_TX_BYTES"):
        decode_batch(too_long + bytes(MAX_TX_BYTES + 1))
    with pytest.raises(CodecError):
        encode_batch(0, [b""] * (MAX_BATCH_TXS + 1))
    with pytest.raises(CodecError):
        encode_batch(0, [bytes(MAX_TX_BYTES + 1)])
    assert decode_batch(encode_batch(0, [bytes(MAX_TX_BYTES)]))[1] == [bytes(MAX_TX_BYTES)]


def test_tx_root_and_batch_data_hash_by_hand() -> None:
    raw = [encode_tx(sign_fake(tx)) for tx in EXAMPLES[:3]]
    leaves = [keccak(t) for t in raw]
    assert tx_leaves(raw) == leaves
    assert leaves[0] == decode_tx(raw[0]).hash
    root = keccak(keccak(leaves[0] + leaves[1]) + keccak(leaves[2] + ZERO32))
    assert tx_root(raw) == root
    header, _ = decode_batch(encode_batch(1234, raw))
    expected = keccak(b"\x01" + (1234).to_bytes(8, "big") + (3).to_bytes(4, "big") + root)
    assert batch_data_hash(header, raw) == expected == batch_data_hash_from_root(header, root)
    assert tx_root([]) == ZERO32
    assert tx_root(raw[:1]) == leaves[0]
    empty = BatchHeader(1, 0, 0)
    assert batch_data_hash(empty, []) == keccak(b"\x01" + bytes(8) + bytes(4) + ZERO32)
    with pytest.raises(CodecError):
        batch_data_hash(header, raw[:2])


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=17))
def test_inclusion_proofs_verify(raw: list[bytes]) -> None:
    root = tx_root(raw)
    for i, tx in enumerate(raw):
        proof = tx_inclusion_proof(raw, i)
        assert verify_merkle_proof(root, keccak(tx), i, len(raw), proof)
        assert not verify_merkle_proof(root, keccak(tx + b"x"), i, len(raw), proof)


# --- deposits --------------------------------------------------------------------------------------------


def test_deposit_hashes_by_hand() -> None:
    a, b = b"\xaa" * 20, b"\xbb" * 20
    deposits = [Deposit(0, a, 5), Deposit(1, b, 2**128 - 1), Deposit(2, a, 0)]
    hashes = [
        keccak(d.index.to_bytes(8, "big") + d.recipient + d.amount.to_bytes(16, "big")) for d in deposits
    ]
    assert [deposit_hash(d) for d in deposits] == hashes
    assert encode_deposit(deposits[0]) == bytes(8) + a + (5).to_bytes(16, "big")
    h1 = keccak(ZERO32 + hashes[0])
    h2 = keccak(h1 + hashes[1])
    h3 = keccak(h2 + hashes[2])
    assert rolling_hash(ZERO32, deposits[0]) == h1
    assert rolling_hashes(deposits) == [h1, h2, h3]
    assert rolling_hashes(deposits[1:], prev=h1) == [h2, h3]
    assert rolling_hashes([]) == []
    with pytest.raises(CodecError):
        rolling_hashes([deposits[0], deposits[2]])
    with pytest.raises(CodecError):
        deposit_hash(Deposit(0, a, 2**128))
    with pytest.raises(CodecError):
        deposit_hash(Deposit(0, b"\x00" * 19, 1))
