"""The sparse Merkle tree of docs/spec.md section 2: hand-computed roots, proofs, updates, codec."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import ProofError
from protocol.hashing import ZERO32, keccak
from protocol.smt import SmtProof, SparseMerkleTree, leaf_hash, root_after_update, verify_proof


def key_of(n: int) -> bytes:
    return n.to_bytes(32, "big")


def bit_key(*bits: int) -> bytes:
    """The key with exactly the given spec bits set (bit 0 = top bit of byte 0)."""
    return key_of(sum(1 << (255 - b) for b in bits))


def bit(key: bytes, i: int) -> int:
    return (int.from_bytes(key, "big") >> (255 - i)) & 1


def H(data: bytes) -> bytes:
    return keccak(data)


def is_other(proof: SmtProof) -> bool:
    return proof.other_key is not None


# --- strategies ------------------------------------------------------------------------------------

values = st.binary(max_size=40)
Case = tuple[dict[bytes, bytes], list[bytes]]  # items, and keys absent from them


@st.composite
def key_sets(draw: st.DrawFn, min_size: int = 0, max_size: int = 24) -> list[bytes]:
    """Distinct keys, clustered around a few bases so that paths share long prefixes (deep splits).

    The keys come from a seeded generator: drawing each one through hypothesis is ten times slower.
    """
    bases = draw(st.lists(st.integers(0, 2**256 - 1), min_size=1, max_size=3))
    count = draw(st.integers(min_size, max_size))
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    keys: set[bytes] = set()
    while len(keys) < count:
        base = rnd.choice(bases)
        shared = rnd.randrange(9) if rnd.random() < 0.5 else rnd.randrange(256)
        low_mask = (1 << (256 - shared)) - 1
        noise = rnd.choice([rnd.getrandbits(256), rnd.getrandbits(256), 1 << (255 - shared), 1])
        keys.add(key_of((base & ~low_mask) | (noise & low_mask)))
    return sorted(keys)


@st.composite
def trees(draw: st.DrawFn, min_size: int = 0) -> Case:
    """A dict of items and a list of keys absent from it, drawn from the same clusters."""
    keys = draw(key_sets(min_size=min_size, max_size=30))
    split = draw(st.integers(min_size, len(keys))) if len(keys) > min_size else len(keys)
    present = keys[:split] if draw(st.booleans()) else keys[len(keys) - split :]
    absent = [k for k in keys if k not in set(present)]
    items = {k: draw(values) for k in present}
    return items, absent


# --- hand-computed roots ---------------------------------------------------------------------------


def test_empty_tree() -> None:
    tree = SparseMerkleTree.empty()
    assert tree.root == ZERO32
    assert len(tree) == 0
    assert list(tree.items()) == []
    assert tree.get(key_of(5)) is None
    proof = tree.prove(key_of(5))
    assert proof == SmtProof(())
    assert verify_proof(ZERO32, key_of(5), None, proof)
    assert not verify_proof(ZERO32, key_of(5), b"", proof)
    assert SparseMerkleTree.from_items([]).root == ZERO32


def test_one_leaf_is_the_root() -> None:
    key, value = bit_key(3, 77), b"hello"
    tree = SparseMerkleTree.empty().set(key, value)
    assert leaf_hash(key, value) == H(b"\x00" + key + H(value))
    assert tree.root == leaf_hash(key, value)
    assert tree.prove(key) == SmtProof(())
    # An all-zero value is still a leaf, and so is the empty value.
    assert SparseMerkleTree.empty().set(key, b"\x00" * 24).root == leaf_hash(key, b"\x00" * 24)
    assert SparseMerkleTree.empty().set(key, b"").root == H(b"\x00" + key + H(b""))


def test_two_keys_split_at_bit_0() -> None:
    left, right = bit_key(9), bit_key(0, 9)
    tree = SparseMerkleTree.from_items([(right, b"r"), (left, b"l")])
    assert tree.root == H(leaf_hash(left, b"l") + leaf_hash(right, b"r"))
    assert tree.prove(left) == SmtProof((leaf_hash(right, b"r"),))


@pytest.mark.parametrize("prefix_bits", [(), tuple(range(200))])
def test_two_keys_split_at_bit_200(prefix_bits: tuple[int, ...]) -> None:
    # Both keys share bits 0..199 (all 0, or all 1) and differ at bit 200.
    a, b = bit_key(*prefix_bits, 201), bit_key(*prefix_bits, 200)
    node = H(leaf_hash(a, b"A") + leaf_hash(b, b"B"))
    for depth in range(199, -1, -1):
        node = H(ZERO32 + node) if bit(a, depth) else H(node + ZERO32)
    expected = node
    assert SparseMerkleTree.empty().set(a, b"A").set(b, b"B").root == expected
    assert SparseMerkleTree.empty().set(b, b"B").set(a, b"A").root == expected
    assert SparseMerkleTree.from_items([(a, b"A"), (b, b"B")]).root == expected
    proof = SparseMerkleTree.from_items([(a, b"A"), (b, b"B")]).prove(a)
    assert len(proof.siblings) == 201
    assert proof.siblings[200] == leaf_hash(b, b"B")
    assert set(proof.siblings[:200]) == {ZERO32}


def test_three_keys_by_hand() -> None:
    k00, k01, k1 = bit_key(), bit_key(1), bit_key(0)
    tree = SparseMerkleTree.from_items([(k1, b"c"), (k01, b"b"), (k00, b"a")])
    expected = H(H(leaf_hash(k00, b"a") + leaf_hash(k01, b"b")) + leaf_hash(k1, b"c"))
    assert tree.root == expected
    assert list(tree.items()) == [(k00, b"a"), (k01, b"b"), (k1, b"c")]


def test_keys_differing_only_in_the_last_bit() -> None:
    a, b = bit_key(), bit_key(255)
    tree = SparseMerkleTree.from_items([(a, b"x"), (b, b"y")])
    proof = tree.prove(b)
    assert len(proof.siblings) == 256
    assert verify_proof(tree.root, b, b"y", proof)
    assert SmtProof.decode(proof.encode()) == proof
    assert root_after_update(b, b"y", b"z", proof) == tree.set(b, b"z").root


def test_wrong_key_length_is_a_proof_error() -> None:
    tree = SparseMerkleTree.from_items([(key_of(1), b"v")])
    for bad in (b"", b"\x01" * 31, b"\x01" * 33):
        with pytest.raises(ProofError, match="keys are 32 bytes"):
            tree.get(bad)
        with pytest.raises(ProofError):
            tree.set(bad, b"v")
        with pytest.raises(ProofError):
            tree.set_many([(bad, b"v")])
        with pytest.raises(ProofError):
            tree.prove(bad)
        with pytest.raises(ProofError):
            SparseMerkleTree.from_items([(bad, b"v")])
        with pytest.raises(ProofError):
            leaf_hash(bad, b"v")
        with pytest.raises(ProofError):
            verify_proof(tree.root, bad, None, SmtProof(()))
        with pytest.raises(ProofError):
            root_after_update(bad, None, b"v", SmtProof(()))


# --- the root is a function of the set of items ---------------------------------------------------


@given(trees(), st.randoms(use_true_random=False))
def test_root_independent_of_insertion_order(case: Case, rnd: random.Random) -> None:
    items, _ = case
    pairs = list(items.items())
    roots = set()
    for _ in range(2):
        rnd.shuffle(pairs)
        tree = SparseMerkleTree.empty()
        for key, value in pairs:
            tree = tree.set(key, value)
        roots.add(tree.root)
    bulk = SparseMerkleTree.from_items(pairs)
    half = len(pairs) // 2
    mixed = SparseMerkleTree.from_items(pairs[:half]).set_many(pairs[half:])
    roots |= {bulk.root, mixed.root, SparseMerkleTree.empty().set_many(pairs).root}
    assert len(roots) == 1
    assert len(bulk) == len(mixed) == len(items)
    assert list(bulk.items()) == sorted(items.items())
    assert list(mixed.items()) == sorted(items.items())
    for key, value in items.items():
        assert bulk.get(key) == value
        assert key in bulk


@given(trees(min_size=1), st.data())
def test_overwrites_and_duplicates(case: Case, data: st.DataObject) -> None:
    items, absent = case
    tree = SparseMerkleTree.from_items(items.items())
    new = {k: data.draw(values) for k in data.draw(st.lists(st.sampled_from(sorted(items)), max_size=5))}
    new.update({k: data.draw(values) for k in absent[:3]})
    final = {**items, **new}
    expected = SparseMerkleTree.from_items(final.items())
    # Duplicate keys: the last value wins, in set_many and from_items alike.
    noisy = [(k, b"stale") for k in new] + list(new.items())
    assert tree.set_many(noisy).root == expected.root
    assert SparseMerkleTree.from_items([*items.items(), *noisy]).root == expected.root
    assert len(tree.set_many(noisy)) == len(final)
    sequential = tree
    for key, value in noisy:
        sequential = sequential.set(key, value)
    assert sequential.root == expected.root
    assert len(sequential) == len(final)


def test_bulk_build_matches_sequential_inserts() -> None:
    rnd = random.Random(7)
    items = [(rnd.randbytes(32), rnd.randbytes(24)) for _ in range(3_000)]
    items += [(k[:31] + bytes([k[31] ^ 1]), b"near") for k, _ in items[:50]]  # leaves at depth ~256
    tree = SparseMerkleTree.empty()
    for key, value in items:
        tree = tree.set(key, value)
    assert SparseMerkleTree.from_items(items).root == tree.root
    assert SparseMerkleTree.from_items(items[:1_000]).set_many(items[1_000:]).root == tree.root
    assert len(tree) == len(items)


# --- persistence -----------------------------------------------------------------------------------


@given(trees(min_size=1), values)
def test_old_tree_unchanged(case: Case, value: bytes) -> None:
    items, absent = case
    tree = SparseMerkleTree.from_items(items.items())
    root, size, snapshot = tree.root, len(tree), list(tree.items())
    key = next(iter(items))
    tree.set(key, value + b"!")
    tree.set_many([(key, value + b"?"), *((k, value) for k in absent)])
    for k in absent:
        tree.set(k, value)
    assert (tree.root, len(tree), list(tree.items())) == (root, size, snapshot)
    assert tree.get(key) == items[key]
    assert all(tree.get(k) is None for k in absent)


def test_same_value_write_is_cheap() -> None:
    tree = SparseMerkleTree.from_items([(key_of(i), b"v%d" % i) for i in range(50)])
    assert tree.set(key_of(7), b"v7") is tree
    assert tree.set_many([(key_of(7), b"v7"), (key_of(8), b"v8")]) is tree
    assert tree.set_many([]) is tree
    changed = tree.set_many([(key_of(7), b"v7"), (key_of(8), b"new")])
    assert changed.root == tree.set(key_of(8), b"new").root


# --- proofs ----------------------------------------------------------------------------------------


@given(trees())
def test_inclusion_and_exclusion_proofs(case: Case) -> None:
    items, absent = case
    tree = SparseMerkleTree.from_items(items.items())
    for key, value in items.items():
        proof = tree.prove(key)
        assert not is_other(proof)
        assert verify_proof(tree.root, key, value, proof)
        assert not verify_proof(tree.root, key, value + b"x", proof)
        assert not verify_proof(tree.root, key, None, proof)  # claim absence of a present key
    for key in absent:
        proof = tree.prove(key)
        assert verify_proof(tree.root, key, None, proof)
        assert not verify_proof(tree.root, key, b"", proof)  # claim presence of an absent key
        if is_other(proof):
            assert proof.other_key in items
            assert proof.other_value_hash == H(items[proof.other_key or b""])


def test_exclusion_hits_both_terminals() -> None:
    # Hand-made: k00 and k01 fill the left half; the right half (bit 0 = 1) is empty.
    tree = SparseMerkleTree.from_items([(bit_key(), b"a"), (bit_key(1), b"b")])
    empty_proof = tree.prove(bit_key(0))
    assert empty_proof == SmtProof((H(leaf_hash(bit_key(), b"a") + leaf_hash(bit_key(1), b"b")),))
    other_proof = tree.prove(bit_key(2))
    assert other_proof == SmtProof((ZERO32, leaf_hash(bit_key(1), b"b")), bit_key(), H(b"a"))
    assert verify_proof(tree.root, bit_key(0), None, empty_proof)
    assert verify_proof(tree.root, bit_key(2), None, other_proof)
    # Random keys: both kinds occur, and every proof verifies.
    rnd = random.Random(3)
    tree = SparseMerkleTree.from_items((rnd.randbytes(32), rnd.randbytes(8)) for _ in range(2_000))
    kinds = {True: 0, False: 0}
    for _ in range(2_000):
        key = rnd.randbytes(32)
        proof = tree.prove(key)
        kinds[is_other(proof)] += 1
        assert verify_proof(tree.root, key, None, proof)
    assert kinds[True] > 0 and kinds[False] > 0


@given(trees(min_size=2), st.data())
def test_tampered_proofs_fail(case: Case, data: st.DataObject) -> None:
    items, absent = case
    tree = SparseMerkleTree.from_items(items.items())
    root = tree.root
    claims: list[tuple[bytes, bytes | None]] = list(items.items()) + [(k, None) for k in absent]
    key, value = data.draw(st.sampled_from(claims))
    proof = tree.prove(key)
    assert verify_proof(root, key, value, proof)
    sibs = list(proof.siblings)
    other = (proof.other_key, proof.other_value_hash)
    if sibs:
        index = data.draw(st.integers(0, len(sibs) - 1))
        byte = data.draw(st.integers(0, 31))
        flipped = sibs.copy()
        flipped[index] = (
            flipped[index][:byte] + bytes([flipped[index][byte] ^ 1]) + flipped[index][byte + 1 :]
        )
        assert not verify_proof(root, key, value, SmtProof(tuple(flipped), *other))
        for dropped in (sibs[1:], sibs[:-1]):
            assert not verify_proof(root, key, value, SmtProof(tuple(dropped), *other))
    for longer in ([*sibs, ZERO32], [ZERO32, *sibs]):
        assert not verify_proof(root, key, value, SmtProof(tuple(longer), *other))
    assert not verify_proof(root, key, value, SmtProof((*sibs[:-1], b"\x01" * 31)))
    if value is not None:
        assert not verify_proof(root, key, None, proof)
        assert not verify_proof(root, key, value + b"\x00", proof)
        # Pretend the key's own leaf is an OTHER terminal: rejected, the terminal must be a different key.
        own = SmtProof(proof.siblings, key, H(value))
        assert not verify_proof(root, key, None, own)
        assert not verify_proof(root, key, value, own)
        # An inclusion claim carries no OTHER terminal, even one on the key's path.
        neighbour = key[:31] + bytes([key[31] ^ 1])
        assert not verify_proof(root, key, value, SmtProof(proof.siblings, neighbour, H(value)))
    else:
        assert not verify_proof(root, key, b"", proof)
        if proof.other_key is not None:
            assert proof.other_value_hash is not None
            bad_hash = bytes([proof.other_value_hash[0] ^ 1]) + proof.other_value_hash[1:]
            assert not verify_proof(root, key, None, SmtProof(proof.siblings, proof.other_key, bad_hash))
            assert not verify_proof(root, key, None, SmtProof(proof.siblings))
            assert not verify_proof(root, key, None, SmtProof(proof.siblings, proof.other_key, None))
            assert not verify_proof(root, proof.other_key, None, proof)
        else:
            stranger = next(iter(items))
            assert not verify_proof(root, key, None, SmtProof(proof.siblings, stranger, H(items[stranger])))


# --- updates from a proof ------------------------------------------------------------------------


@given(trees(), st.data())
def test_root_after_update_matches_set(case: Case, data: st.DataObject) -> None:
    items, absent = case
    tree = SparseMerkleTree.from_items(items.items())
    candidates = sorted(items) + absent
    if not candidates:
        candidates = [key_of(1)]
    key = data.draw(st.sampled_from(candidates))
    old = tree.get(key)
    new = data.draw(st.one_of(values, st.just(old))) if old is not None else data.draw(values)
    proof = tree.prove(key)
    assert verify_proof(tree.root, key, old, proof)
    assert root_after_update(key, old, new, proof) == tree.set(key, new).root


def test_root_after_update_every_terminal_kind() -> None:
    k00, k01, k1, k001 = bit_key(), bit_key(1), bit_key(0), bit_key(2)
    tree = SparseMerkleTree.from_items([(k00, b"a"), (k01, b"b")])
    cases = [
        (k00, b"a", b"A"),  # LEAF: update
        (k00, b"a", b"a"),  # LEAF: same value
        (k1, None, b"c"),  # EMPTY: insert
        (k001, None, b"d"),  # OTHER: insert, split right under the other leaf
        (bit_key(200), None, b"e"),  # OTHER: insert, split 199 levels under the other leaf
    ]
    for key, old, new in cases:
        proof = tree.prove(key)
        assert is_other(proof) == (key in (k001, bit_key(200)))
        assert verify_proof(tree.root, key, old, proof)
        assert root_after_update(key, old, new, proof) == tree.set(key, new).root
    assert root_after_update(k00, b"a", b"a", tree.prove(k00)) == tree.root
    # Into the empty tree and into a one-leaf tree (proof depth 0).
    assert root_after_update(k00, None, b"x", SmtProof(())) == leaf_hash(k00, b"x")
    single = SparseMerkleTree.empty().set(k1, b"z")
    for key, old in ((k1, b"z"), (k00, None), (bit_key(0, 255), None)):
        assert root_after_update(key, old, b"y", single.prove(key)) == single.set(key, b"y").root


def test_root_after_update_rejects_impossible_proofs() -> None:
    tree = SparseMerkleTree.from_items([(bit_key(), b"a"), (bit_key(1), b"b")])
    proof = tree.prove(bit_key(2))
    assert proof.other_key == bit_key()
    with pytest.raises(ProofError):
        root_after_update(bit_key(2), b"a", b"x", proof)  # OTHER terminal, yet a value claimed
    with pytest.raises(ProofError):
        root_after_update(bit_key(), None, b"x", proof)  # OTHER terminal is the key itself
    with pytest.raises(ProofError):
        root_after_update(bit_key(0), None, b"x", proof)  # OTHER key off the key's path
    with pytest.raises(ProofError):
        root_after_update(bit_key(2), None, b"x", SmtProof(proof.siblings, bit_key(), None))
    with pytest.raises(ProofError):
        root_after_update(bit_key(2), None, b"x", SmtProof((ZERO32,) * 257))
    with pytest.raises(ProofError):
        root_after_update(bit_key(2), None, b"x", SmtProof((b"\x01",)))


@given(trees(), st.data())
def test_chain_of_updates_from_proofs(case: Case, data: st.DataObject) -> None:
    items, absent = case
    tree = SparseMerkleTree.from_items(items.items())
    pool = sorted(items) + absent + [key_of(0), key_of(1)]
    writes = data.draw(st.lists(st.tuples(st.sampled_from(pool), values), max_size=12))
    current, root = tree, tree.root
    for key, new in writes:
        proof = current.prove(key)
        old = current.get(key)
        assert verify_proof(root, key, old, proof)
        root = root_after_update(key, old, new, proof)
        current = current.set(key, new)
        assert root == current.root
    assert root == tree.set_many(writes).root


# --- compact proof bytes ---------------------------------------------------------------------------

siblings_st = st.lists(st.one_of(st.just(ZERO32), st.binary(min_size=32, max_size=32)), max_size=40)
proofs_st = st.builds(
    SmtProof,
    st.one_of(siblings_st, st.integers(0, 256).map(lambda n: [ZERO32] * n)).map(tuple),
    st.none(),
    st.none(),
) | st.builds(
    SmtProof,
    siblings_st.map(tuple),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)


def expected_size(proof: SmtProof) -> int:
    depth = len(proof.siblings)
    non_empty = sum(1 for s in proof.siblings if s != ZERO32)
    return 2 + (depth + 7) // 8 + 32 * non_empty + 1 + (64 if is_other(proof) else 0)


@given(proofs_st)
def test_encode_decode_round_trip(proof: SmtProof) -> None:
    data = proof.encode()
    assert len(data) == expected_size(proof)
    assert int.from_bytes(data[:2], "big") == len(proof.siblings)
    assert SmtProof.decode(data) == proof


def test_encoding_by_hand() -> None:
    sib = b"\x11" * 32
    proof = SmtProof(
        (ZERO32, sib, ZERO32, ZERO32, ZERO32, ZERO32, ZERO32, ZERO32, sib), b"\x22" * 32, b"\x33" * 32
    )
    expected = b"\x00\x09" + b"\x40\x80" + sib + sib + b"\x01" + b"\x22" * 32 + b"\x33" * 32
    assert proof.encode() == expected
    assert SmtProof(()).encode() == b"\x00\x00\x00"
    assert SmtProof.decode(expected) == proof


@given(proofs_st)
def test_decode_rejects_truncated_and_trailing(proof: SmtProof) -> None:
    data = proof.encode()
    for cut in range(len(data)):
        with pytest.raises(ProofError):
            SmtProof.decode(data[:cut])
    for extra in (b"\x00", b"\x01", b"\x00" * 64):
        with pytest.raises(ProofError):
            SmtProof.decode(data + extra)


@given(proofs_st, st.integers(-9, 9))
def test_decode_mutated_depth(proof: SmtProof, delta: int) -> None:
    data = proof.encode()
    depth = len(proof.siblings) + delta
    if delta == 0 or not 0 <= depth < 2**16:
        return
    mutated = depth.to_bytes(2, "big") + data[2:]
    try:
        decoded = SmtProof.decode(mutated)
    except ProofError:
        return
    # Only possible when the new depth adds or removes empty siblings in the same bitmap bytes: the
    # result is a different, canonical proof (so it cannot verify where the original did).
    assert decoded != proof
    assert decoded.encode() == mutated


@given(proofs_st, st.data())
def test_decode_accepts_only_canonical_bytes(proof: SmtProof, data: st.DataObject) -> None:
    raw = bytearray(proof.encode())
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] = data.draw(st.integers(0, 255))
    try:
        decoded = SmtProof.decode(bytes(raw))
    except ProofError:
        return
    assert decoded.encode() == bytes(raw)


def test_decode_rejects_malformed() -> None:
    sib = b"\x11" * 32
    cases = {
        "depth over 256": (257).to_bytes(2, "big") + b"\x00" * 33 + b"\x00",
        "huge depth": b"\xff\xff",
        "empty": b"",
        "no terminal": b"\x00\x00",
        "terminal 2": b"\x00\x00\x02",
        "terminal 0xff": b"\x00\x00\xff",
        "bitmap bit for a zero sibling": b"\x00\x01\x80" + ZERO32 + b"\x00",
        "bitmap bit past the depth": b"\x00\x01\x40\x00",
        "bitmap bit past the depth with a sibling": b"\x00\x01\x40" + sib + b"\x00",
        "missing sibling": b"\x00\x02\xc0" + sib + b"\x00",
        "short OTHER": b"\x00\x00\x01" + b"\x22" * 63,
        "long OTHER": b"\x00\x00\x01" + b"\x22" * 65,
        "trailing after plain": b"\x00\x00\x00\x00",
    }
    for name, data in cases.items():
        with pytest.raises(ProofError):
            SmtProof.decode(data)
            pytest.fail(name)
    assert SmtProof.decode(b"\x00\x01\x80" + sib + b"\x00") == SmtProof((sib,))
    assert SmtProof.decode((256).to_bytes(2, "big") + b"\x00" * 32 + b"\x00") == SmtProof((ZERO32,) * 256)


def test_encode_rejects_malformed() -> None:
    for proof in (
        SmtProof((b"\x01" * 31,)),
        SmtProof((ZERO32,) * 257),
        SmtProof((), b"\x01" * 32, None),
        SmtProof((), None, b"\x01" * 32),
        SmtProof((), b"\x01" * 31, b"\x01" * 32),
    ):
        with pytest.raises(ProofError):
            proof.encode()
