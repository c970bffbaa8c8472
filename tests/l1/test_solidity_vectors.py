"""The Solidity libraries agree with `protocol/` bit for bit: golden vectors and random cases.

SparseMerkle (verify, rootAfterUpdate, update) on tests/vectors/smt.json and hypothesis-random trees,
with tampered proofs; MerkleList on merkle.json and random lists; BatchCodec's tx root and data hash on
batches.json and random batches, malformed framing; the Bridge's deposit and rolling hashes on
deposits.json and random deposits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.contract import Contract

from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings import Bridge, UnlockedSender, transact
from l1_contracts.bindings.tx import call_view
from l1_contracts.errors import ContractRevert
from protocol.codec import BatchHeader, batch_data_hash, decode_batch, encode_batch, tx_root
from protocol.deposits import Deposit, deposit_hash, rolling_hashes
from protocol.errors import CodecError, ProofError
from protocol.hashing import (
    ZERO32,
    keccak,
    merkle_proof,
    merkle_range_proof,
    merkle_root,
    merkle_root_from_range,
)
from protocol.params import MAX_BATCH_TXS, MAX_TX_BYTES
from protocol.smt import SmtProof, SparseMerkleTree, leaf_hash, root_after_update, verify_proof
from tests.support.l1 import make_w3

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
MALFORMED = "malformed"


def _vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def _b(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


class Harnesses:
    def __init__(self) -> None:
        self.w3, self.tester = make_w3()
        self.owner = UnlockedSender(self.w3.eth.accounts[0])
        self.smt = self._deploy("SparseMerkleHarness")
        self.merkle = self._deploy("MerkleListHarness")
        self.codec = self._deploy("BatchCodecHarness")

    def _deploy(self, name: str) -> Contract:
        artifact = load_artifact(name)
        receipt = transact(self.w3, self.owner, to=None, data=_b(artifact.bytecode), gas=5_000_000)
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(str(receipt["contractAddress"])), abi=artifact.abi
        )


@pytest.fixture(scope="module")
def h() -> Iterator[Harnesses]:
    yield Harnesses()


def call(fn: Any) -> Any:
    return call_view(fn)


# --- SparseMerkle ------------------------------------------------------------------------------


def py_verify(root: bytes, key: bytes, value: bytes | None, raw: bytes) -> bool | str:
    """What protocol/ says of a compact proof: malformed (decode or terminal shape), or verify's answer."""
    try:
        proof = SmtProof.decode(raw)
        root_after_update(key, None, b"", proof)  # checks the OTHER terminal's shape
    except ProofError:
        return MALFORMED
    return verify_proof(root, key, value, proof)


def sol_verify(h: Harnesses, root: bytes, key: bytes, value: bytes | None, raw: bytes) -> bool | str:
    value_hash = keccak(value) if value is not None else ZERO32
    try:
        calldata = bool(call(h.smt.functions.verify(root, key, value is not None, value_hash, raw)))
        memory = bool(call(h.smt.functions.verifyMem(root, key, value is not None, value_hash, raw)))
    except ContractRevert as exc:
        assert exc.error_name == "MalformedSmtProof", exc
        return MALFORMED
    assert calldata == memory
    return calldata


def py_update(key: bytes, old: bytes | None, new: bytes, raw: bytes) -> bytes | str:
    try:
        return root_after_update(key, old, new, SmtProof.decode(raw))
    except ProofError:
        return MALFORMED


def sol_update(h: Harnesses, key: bytes, old: bytes | None, new: bytes, raw: bytes) -> bytes | str:
    try:
        return bytes(call(h.smt.functions.rootAfterUpdate(key, old is not None, keccak(new), raw)))
    except ContractRevert as exc:
        assert exc.error_name == "MalformedSmtProof", exc
        return MALFORMED


def check_update_both(
    h: Harnesses, root: bytes, key: bytes, old: bytes | None, new: bytes, raw: bytes
) -> None:
    """`update` = verify + rootAfterUpdate in one pass; a wrong root reverts SmtRootMismatch."""
    expected = root_after_update(key, old, new, SmtProof.decode(raw))
    old_hash = keccak(old) if old is not None else ZERO32
    got = bytes(call(h.smt.functions.update(root, key, old is not None, old_hash, keccak(new), raw)))
    assert got == expected
    wrong = keccak(root)
    with pytest.raises(ContractRevert) as info:
        call(h.smt.functions.update(wrong, key, old is not None, old_hash, keccak(new), raw))
    assert info.value.error_name == "SmtRootMismatch"
    assert info.value.error_args == {"root": wrong, "computed": root}


def test_smt_golden_proofs(h: Harnesses) -> None:
    v = _vectors("smt.json")
    root = _b(v["root"])
    for entry in v["proofs"]:
        key, raw = _b(entry["key"]), _b(entry["proof"])
        value = None if entry["value"] is None else _b(entry["value"])
        assert sol_verify(h, root, key, value, raw) is True
        assert py_verify(root, key, value, raw) is True
        if value is not None:  # the wrong value, and a claim of absence, fail
            assert sol_verify(h, root, key, value + b"x", raw) is False
            assert sol_verify(h, root, key, None, raw) is False
        else:
            assert sol_verify(h, root, key, b"", raw) is False
        assert sol_verify(h, keccak(root), key, value, raw) is False


def test_smt_golden_updates(h: Harnesses) -> None:
    v = _vectors("smt.json")
    root = _b(v["root"])
    for entry in v["updates"]:
        key, raw, new = _b(entry["key"]), _b(entry["proof"]), _b(entry["new"])
        old = None if entry["old"] is None else _b(entry["old"])
        assert sol_update(h, key, old, new, raw) == _b(entry["new_root"])
        check_update_both(h, root, key, old, new, raw)


def test_smt_leaf_hash(h: Harnesses) -> None:
    key, value = keccak(b"k"), b"value"
    assert bytes(call(h.smt.functions.leafHash(key, keccak(value)))) == leaf_hash(key, value)


def test_smt_deepest_split(h: Harnesses) -> None:
    """Two keys differing only in bit 255: leaves at depth 256, a full bitmap, OTHER split at 255."""
    a = keccak(b"deep")
    b = a[:31] + bytes([a[31] ^ 1])
    c = keccak(b"elsewhere")
    tree = SparseMerkleTree.from_items([(a, b"A"), (b, b"B"), (c, b"C")])
    for key, value in ((a, b"A"), (b, b"B"), (c, b"C")):
        raw = tree.prove(key).encode()
        assert sol_verify(h, tree.root, key, value, raw) is True
        assert sol_update(h, key, value, b"new", raw) == tree.set(key, b"new").root
    assert len(tree.prove(a).siblings) == 256
    # insert next to a lone leaf at depth 1: the OTHER split runs all the way down
    single = SparseMerkleTree.from_items([(a, b"A"), (c, b"C")])
    raw = single.prove(b).encode()
    assert sol_verify(h, single.root, b, None, raw) is True
    assert sol_update(h, b, None, b"B", raw) == single.set(b, b"B").root


def test_smt_empty_tree(h: Harnesses) -> None:
    tree = SparseMerkleTree.empty()
    key = keccak(b"x")
    raw = tree.prove(key).encode()
    assert raw == b"\x00\x00\x00"
    assert sol_verify(h, ZERO32, key, None, raw) is True
    assert sol_update(h, key, None, b"v", raw) == tree.set(key, b"v").root


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x00",
        b"\x01\x01\x00",  # depth 257
        b"\x00\x08",  # bitmap missing
        b"\x00\x08\x80\x00",  # sibling missing
        b"\x00\x08\x00",  # terminal missing
        b"\x00\x04\x08\x00",  # bitmap bit past the depth
        b"\x00\x08\x80" + ZERO32 + b"\x00",  # a non-empty sibling that is zero
        b"\x00\x00\x02",  # unknown terminal
        b"\x00\x00\x00\x00",  # trailing byte
        b"\x00\x00\x01" + ZERO32,  # OTHER with 32 bytes instead of 64
    ],
)
def test_smt_malformed_bytes(h: Harnesses, raw: bytes) -> None:
    key = keccak(b"key")
    assert py_verify(ZERO32, key, None, raw) == MALFORMED
    assert sol_verify(h, ZERO32, key, None, raw) == MALFORMED
    assert sol_update(h, key, None, b"v", raw) == MALFORMED


def test_smt_other_terminal_rules(h: Harnesses) -> None:
    key = keccak(b"key")
    other = keccak(b"other")
    vh = keccak(b"v")
    # the OTHER terminal is the key itself
    same = b"\x00\x00\x01" + key + vh
    assert py_verify(ZERO32, key, None, same) == sol_verify(h, ZERO32, key, None, same) == MALFORMED
    # off the key's path: depth 8, a key differing in the first byte
    off = keccak(b"off")
    while off[0] == key[0]:
        off = keccak(off)
    raw = b"\x00\x08\x00\x01" + off + vh
    assert py_verify(ZERO32, key, None, raw) == sol_verify(h, ZERO32, key, None, raw) == MALFORMED
    # a well-formed OTHER terminal cannot show a value for the key: false, and update reverts
    tree = SparseMerkleTree.from_items([(other, b"v")])
    raw = tree.prove(key).encode()
    assert sol_verify(h, tree.root, key, None, raw) is True
    assert sol_verify(h, tree.root, key, b"v", raw) is False
    assert py_verify(tree.root, key, b"v", raw) is False
    with pytest.raises(ContractRevert) as info:
        call(h.smt.functions.rootAfterUpdate(key, True, vh, raw))
    assert info.value.error_name == "MalformedSmtProof" and info.value.error_args == {"reason": 8}


KEYS = st.binary(min_size=32, max_size=32)
VALUES = st.binary(min_size=0, max_size=40)
# a bit where two keys first differ: mostly near the top (cheap), sometimes anywhere down to 255
SPLIT_BITS = st.one_of(st.integers(0, 20), st.integers(0, 20), st.integers(0, 255))


@st.composite
def trees(
    draw: Callable[[st.SearchStrategy[Any]], Any],
) -> tuple[SparseMerkleTree, list[tuple[bytes, bytes]]]:
    """Random trees, some with keys sharing long prefixes (deep splits)."""
    items = draw(st.lists(st.tuples(KEYS, VALUES), min_size=0, max_size=24, unique_by=lambda kv: kv[0]))
    if items and draw(st.booleans()):
        base = items[0][0]
        for bit in draw(st.lists(SPLIT_BITS, max_size=4, unique=True)):
            n = int.from_bytes(base, "big") ^ (1 << (255 - bit))
            key = n.to_bytes(32, "big")
            if all(k != key for k, _ in items):
                items.append((key, draw(VALUES)))
    return SparseMerkleTree.from_items(items), items


def py_outcome(
    root: bytes, key: bytes, value: bytes | None, new: bytes, raw: bytes
) -> tuple[int, bytes, bytes]:
    """What `SparseMerkleHarness.many` must return for one case, computed by protocol/."""
    verified = py_verify(root, key, value, raw)
    after = py_update(key, value, new, raw)
    after_root = ZERO32 if after == MALFORMED else after
    updated = after_root if verified is True else ZERO32
    code = 100 if verified == MALFORMED else int(verified is True)
    return code, after_root, updated  # type: ignore[return-value]


def sol_many(
    h: Harnesses, cases: list[tuple[bytes, bytes, bytes | None, bytes, bytes]]
) -> list[tuple[int, bytes, bytes]]:
    args = [
        (root, key, value is not None, keccak(value) if value is not None else ZERO32, keccak(new), raw)
        for root, key, value, new, raw in cases
    ]
    out = []
    for verified, after, updated in call(h.smt.functions.many(args)):
        out.append((100 if verified > 100 else int(verified), bytes(after), bytes(updated)))
    return out


# py-evm runs some 50k opcodes a second: fewer examples than the protocol tests (`make crosscheck` runs more)
FEW = settings(max_examples=max(15, settings().max_examples // 4))


@settings(max_examples=max(10, settings().max_examples // 6))
@given(data=st.data(), tree_items=trees())
def test_smt_random_trees(h: Harnesses, data: st.DataObject, tree_items: Any) -> None:
    """Inclusion, exclusion (EMPTY and OTHER terminals), updates; one-bit flips, cuts and extensions."""
    tree, items = tree_items
    root = tree.root
    claims: list[tuple[bytes, bytes | None]] = []
    if items:
        key, value = items[data.draw(st.integers(0, len(items) - 1))]
        claims.append((key, value))
        # a near neighbour of a present key: exclusion by an OTHER leaf deep down
        bit = data.draw(SPLIT_BITS)
        near = (int.from_bytes(key, "big") ^ (1 << (255 - bit))).to_bytes(32, "big")
        if tree.get(near) is None:
            claims.append((near, None))
    absent = data.draw(KEYS)
    if tree.get(absent) is None:
        claims.append((absent, None))
    new = data.draw(VALUES)
    cases: list[tuple[bytes, bytes, bytes | None, bytes, bytes]] = []
    for key, value in claims:
        raw = tree.prove(key).encode()
        cases.append((root, key, value, new, raw))
        cases.append((keccak(root), key, value, new, raw))  # wrong root
        cases.append((root, key, b"?" if value is None else None, new, raw))  # wrong claim
        for _ in range(2):  # one bit flipped anywhere
            pos = data.draw(st.integers(0, len(raw) * 8 - 1))
            bad = bytearray(raw)
            bad[pos >> 3] ^= 0x80 >> (pos & 7)
            cases.append((root, key, value, new, bytes(bad)))
        cases.append((root, key, value, new, raw[: data.draw(st.integers(0, len(raw) - 1))]))
        cases.append((root, key, value, new, raw + data.draw(st.binary(min_size=1, max_size=33))))
    got = sol_many(h, cases)
    for case, outcome in zip(cases, got, strict=True):
        assert outcome == py_outcome(*case)
    for (key, _), outcome in zip(claims, got[::7], strict=True):
        assert outcome[0] == 1 and outcome[1] == tree.set(key, new).root == outcome[2]


# --- MerkleList --------------------------------------------------------------------------------


def sol_merkle_root(h: Harnesses, leaves: list[bytes]) -> bytes:
    root, after = call(h.merkle.functions.root(leaves))
    assert [bytes(x) for x in after] == leaves  # `root` leaves its input unchanged
    in_place = bytes(call(h.merkle.functions.rootInPlace(leaves)))
    assert in_place == bytes(root)
    assert bytes(call(h.merkle.functions.rootCalldata(leaves))) == bytes(root)  # the step reveal's
    return bytes(root)


def test_merkle_golden(h: Harnesses) -> None:
    for case in _vectors("merkle.json"):
        leaves = [_b(x) for x in case["leaves"]]
        root = _b(case["root"])
        assert sol_merkle_root(h, leaves) == root
        for i, proof in enumerate(case["proofs"]):
            siblings = [_b(x) for x in proof]
            assert call(h.merkle.functions.verify(root, leaves[i], i, len(leaves), siblings)) is True
            assert call(h.merkle.functions.verify(root, keccak(leaves[i]), i, len(leaves), siblings)) is False
        for run in case["ranges"]:
            first, count, proof = run["first"], run["count"], [_b(x) for x in run["proof"]]
            nodes = leaves[first : first + count]
            assert merkle_root_from_range(nodes, first, len(leaves), proof) == root
            ok, sol_root = call(h.merkle.functions.rangeRoot(nodes, first, len(leaves), proof))
            assert ok and bytes(sol_root) == root


@FEW
@given(n=st.integers(0, 70), data=st.data())
def test_merkle_random(h: Harnesses, n: int, data: st.DataObject) -> None:
    leaves = [keccak(n.to_bytes(2, "big") + i.to_bytes(2, "big")) for i in range(n)]
    root = merkle_root(leaves)
    assert sol_merkle_root(h, leaves) == root
    depth = int(call(h.merkle.functions.depth(n)))
    assert depth == (n - 1).bit_length() if n else depth == 0
    if n:
        i = data.draw(st.integers(0, n - 1))
        proof = merkle_proof(leaves, i)
        assert call(h.merkle.functions.verify(root, leaves[i], i, n, proof)) is True
        assert (
            call(h.merkle.functions.verify(root, leaves[i], i + n, n, proof)) is False
        )  # index out of range
        assert call(h.merkle.functions.verify(root, leaves[i], i, n, [*proof, ZERO32])) is False  # length
        if n > 1:
            j = (i + 1) % n
            assert call(h.merkle.functions.verify(root, leaves[i], j, n, proof)) is False


def _range_root(nodes: list[bytes], first: int, total: int, proof: list[bytes]) -> bytes | None:
    try:
        return merkle_root_from_range(nodes, first, total, proof)
    except ProofError:
        return None


@FEW
@given(n=st.integers(1, 70), data=st.data())
def test_merkle_range_random(h: Harnesses, n: int, data: st.DataObject) -> None:
    """`MerkleList.rangeRoot` is `merkle_root_from_range` (RevealTestSet's proof of a run of chunks):
    the same root for a valid proof, the same refusal for a short, long or shifted one."""
    leaves = [keccak(n.to_bytes(2, "big") + i.to_bytes(2, "big")) for i in range(n)]
    first = data.draw(st.integers(0, n - 1))
    count = data.draw(st.integers(1, n - first))
    proof = merkle_range_proof(leaves, first, count)
    run = leaves[first : first + count]
    tampered = data.draw(
        st.sampled_from(["none", "short", "long", "shift", "total", "leaf"]), label="tampering"
    )
    args: tuple[list[bytes], int, int, list[bytes]] = (run, first, n, proof)
    if tampered == "short" and proof:
        args = (run, first, n, proof[:-1])
    elif tampered == "long":
        args = (run, first, n, [*proof, ZERO32])
    elif tampered == "shift" and first + count < n:
        args = (run, first + 1, n, proof)
    elif tampered == "total":
        args = (run, first, data.draw(st.integers(0, 2 * n + 1)), proof)
    elif tampered == "leaf":
        args = ([keccak(run[0]), *run[1:]], first, n, proof)
    expected = _range_root(*args)
    ok, root = call(h.merkle.functions.rangeRoot(*args))
    assert (bytes(root) if ok else None) == expected
    if tampered == "none":
        assert expected == merkle_root(leaves)


# --- BatchCodec --------------------------------------------------------------------------------


def sol_parse(h: Harnesses, data: bytes) -> tuple[int, int, int, bytes, bytes] | str:
    try:
        version, ts, count, root, data_hash = call(h.codec.functions.parse(data))
    except ContractRevert as exc:
        assert exc.error_name.startswith("Batch"), exc
        return exc.error_name
    return int(version), int(ts), int(count), bytes(root), bytes(data_hash)


def py_parse(data: bytes) -> tuple[int, int, int, bytes, bytes] | None:
    try:
        header, txs = decode_batch(data)
    except CodecError:
        return None
    return header.version, header.timestamp, header.tx_count, tx_root(txs), batch_data_hash(header, txs)


def test_batch_golden(h: Harnesses) -> None:
    for batch in _vectors("batches.json"):
        data = _b(batch["batch_data"])
        header = batch["steps"][0]["witness"]["header"]
        parsed = sol_parse(h, data)
        assert parsed == (
            1,
            batch["timestamp"],
            header["tx_count"],
            _b(batch["tx_root"]),
            _b(header["data_hash"]),
        )
        assert parsed == py_parse(data)


TXS = st.lists(st.binary(min_size=0, max_size=300), max_size=40)


@given(ts=st.integers(0, 2**64 - 1), txs=TXS)
def test_batch_random(h: Harnesses, ts: int, txs: list[bytes]) -> None:
    data = encode_batch(ts, txs)
    expected = (1, ts, len(txs), tx_root(txs), batch_data_hash(BatchHeader(1, ts, len(txs)), txs))
    assert sol_parse(h, data) == expected


@FEW
@given(ts=st.integers(0, 2**64 - 1), txs=TXS, data=st.data())
def test_batch_random_damage(h: Harnesses, ts: int, txs: list[bytes], data: st.DataObject) -> None:
    good = encode_batch(ts, txs)
    cut = data.draw(st.integers(0, len(good) - 1))
    assert sol_parse(h, good[:cut]) == "BatchTruncated"
    assert py_parse(good[:cut]) is None
    extra = data.draw(st.binary(min_size=1, max_size=5))
    assert sol_parse(h, good + extra) == "BatchTrailingBytes"
    assert py_parse(good + extra) is None
    # any single byte changed: both sides accept the same data, with the same hashes
    pos = data.draw(st.integers(0, len(good) - 1))
    bad = bytearray(good)
    bad[pos] ^= data.draw(st.integers(1, 255))
    sol, py = sol_parse(h, bytes(bad)), py_parse(bytes(bad))
    assert sol == py if py is not None else isinstance(sol, str)


def test_batch_framing_errors(h: Harnesses) -> None:
    header = encode_batch(7, [])
    assert sol_parse(h, b"") == "BatchTruncated"
    assert sol_parse(h, b"\x02" + header[1:]) == "BatchVersion"
    assert sol_parse(h, header[:5]) == "BatchTruncated"
    assert sol_parse(h, header[:10]) == "BatchTruncated"
    too_many = header[:9] + (MAX_BATCH_TXS + 1).to_bytes(4, "big")
    assert sol_parse(h, too_many) == "BatchTooManyTxs"
    too_long = header[:9] + (1).to_bytes(4, "big") + (MAX_TX_BYTES + 1).to_bytes(3, "big")
    assert sol_parse(h, too_long) == "BatchTxTooLong"
    assert py_parse(too_long) is None and py_parse(too_many) is None
    # a length prefix cut short, and a tx cut short
    one = encode_batch(7, [b"abc"])
    assert sol_parse(h, one[:14]) == "BatchTruncated"
    assert sol_parse(h, one[:-1]) == "BatchTruncated"
    with pytest.raises(ContractRevert) as info:
        call(h.codec.functions.parse(too_long))
    assert info.value.error_args == {"index": 0, "length": MAX_TX_BYTES + 1}


def test_batch_limits(h: Harnesses) -> None:
    """MAX_BATCH_TXS empty txs, and one tx of MAX_TX_BYTES, are valid."""
    many = [b""] * MAX_BATCH_TXS
    assert sol_parse(h, encode_batch(1, many)) == py_parse(encode_batch(1, many))
    big = [bytes(range(256)) * (MAX_TX_BYTES // 256) + b"\x01" * (MAX_TX_BYTES % 256)]
    assert sol_parse(h, encode_batch(1, big)) == py_parse(encode_batch(1, big))


# --- deposits ----------------------------------------------------------------------------------


def _fresh_bridge(w3: Web3) -> Bridge:
    artifact = load_artifact("Bridge")
    owner = UnlockedSender(w3.eth.accounts[0])
    receipt = transact(w3, owner, to=None, data=_b(artifact.bytecode), gas=2_000_000)
    return Bridge(w3, str(receipt["contractAddress"]))


def test_deposit_golden(h: Harnesses) -> None:
    v = _vectors("deposits.json")
    bridge = _fresh_bridge(h.w3)
    sender = UnlockedSender(list(h.w3.eth.accounts)[1])
    start = h.w3.eth.block_number
    for d in v["deposits"]:
        bridge.deposit(sender, _b(d["recipient"]), int(d["amount"]))
    assert bridge.rolling_hash(0) == ZERO32
    for i, (dh, rh) in enumerate(zip(v["hashes"], v["rolling"], strict=True)):
        assert bridge.deposit_hash(i) == _b(dh)
        assert bridge.rolling_hash(i + 1) == _b(rh)
    logs = bridge.deposit_logs(start)
    assert [log.deposit_hash for log in logs] == [_b(x) for x in v["hashes"]]
    assert [log.rolling_hash for log in logs] == [_b(x) for x in v["rolling"]]


@settings(max_examples=10)  # a fresh chain each: eth-tester's eth_getLogs slows down as the chain grows
@given(deposits=st.lists(st.tuples(st.binary(min_size=20, max_size=20), st.integers(1, 10**21)), max_size=6))
def test_deposit_random(deposits: list[tuple[bytes, int]]) -> None:
    deposits = [(r if any(r) else b"\x01" * 20, a) for r, a in deposits]
    w3, _ = make_w3()
    bridge = _fresh_bridge(w3)
    start = w3.eth.block_number
    sender = UnlockedSender(list(w3.eth.accounts)[2])
    for recipient, amount in deposits:
        bridge.deposit(sender, recipient, amount)
    expected = [Deposit(i, r, a) for i, (r, a) in enumerate(deposits)]
    assert bridge.deposits_since(start) == expected
    assert [bridge.deposit_hash(i) for i in range(len(expected))] == [deposit_hash(d) for d in expected]
    assert [bridge.rolling_hash(i + 1) for i in range(len(expected))] == rolling_hashes(expected)
