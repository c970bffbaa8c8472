"""Fuzzing the L1 side's decoders: the calldata every reader of L1 decodes (`appendBatch`,
`revealSteps`), the revert data of custom errors, and the revert data carried by web3's exceptions.
Random and mutated inputs either decode or raise the package's typed error, never another exception;
and a call the Rollup accepts is read as Solidity reads it (dirty padding after `batchData`)."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode as abi_encode
from hypothesis import given
from hypothesis import strategies as st
from web3 import Web3

from l1_contracts.bindings.rollup import Rollup, append_batch_gas
from l1_contracts.bindings.tx import default_decoder, revert_data, transact
from l1_contracts.errors import CalldataUndecodable, ContractRevert
from l1_contracts.reader import L1Reader
from protocol.codec import encode_batch
from protocol.hashing import keccak
from tests.l1.game import make_game

OFFLINE = Rollup(Web3(), "0x" + "00" * 20)  # decoding needs the ABI only


def _append_calldata(data: bytes) -> bytes:
    args = [data, b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 5]
    return bytes.fromhex(OFFLINE.contract.encode_abi("appendBatch", args=args)[2:])


def _reveal_calldata(hashes: list[bytes]) -> bytes:
    return bytes.fromhex(OFFLINE.contract.encode_abi("revealSteps", args=[3, hashes])[2:])


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """`base` with a few bytes changed, cut short or extended."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 3))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) + draw(st.binary(max_size=40)) if draw(st.booleans()) else bytes(data)


@given(st.binary(max_size=300).flatmap(lambda b: mutated(_append_calldata(b))))
def test_append_batch_calldata_decodes_or_is_refused_by_name(calldata: bytes) -> None:
    try:
        name, params = OFFLINE.decode_call(calldata)
    except CalldataUndecodable:
        return
    functions = {str(f.get("name")) for f in OFFLINE.contract.abi if f.get("type") == "function"}
    assert name in functions
    if name == "appendBatch":
        assert isinstance(params["batchData"], bytes)


@given(
    st.lists(st.binary(min_size=32, max_size=32), max_size=6).flatmap(lambda h: mutated(_reveal_calldata(h)))
)
def test_reveal_calldata_decodes_or_is_refused_by_name(calldata: bytes) -> None:
    try:
        name, params = OFFLINE.decode_call(calldata)
    except CalldataUndecodable:
        return
    if name == "revealSteps":
        assert all(isinstance(h, bytes) and len(h) == 32 for h in params["stepHashes"])


@given(st.binary(max_size=200), st.integers(1, 31))
def test_nonzero_padding_after_batch_data_is_ignored(data: bytes, junk: int) -> None:
    calldata = bytearray(_append_calldata(data))
    if len(data) % 32:
        calldata[-1] = junk  # the last word of `batchData` is padded: Solidity does not read it
    name, params = OFFLINE.decode_call(bytes(calldata))
    assert (name, params["batchData"], params["depositCount"]) == ("appendBatch", data, 5)


def test_a_batch_posted_with_dirty_padding_is_read_as_the_rollup_took_it() -> None:
    """A proposer may post `appendBatch` with nonzero padding: the Rollup accepts it (Solidity never
    reads padding), so every reader must read it too; web3's strict decoding raised and stopped the
    sequencer's follower and every verifier at that batch."""
    game = make_game()
    r = game.rollup
    data = encode_batch(game.now(), [b"\x05" * 7])
    assert len(data) % 32
    args = [data, r.last_root(), keccak(b"post"), keccak(b"trace"), 0]
    calldata = bytearray.fromhex(r.contract.encode_abi("appendBatch", args=args)[2:])
    calldata[-1] = 0xFF
    receipt = transact(game.w3, game.proposer, to=r.address, data=bytes(calldata), gas=append_batch_gas(data))
    reader = L1Reader(r, game.bridge, from_block=game.deployment.block_number, confirmations=0)
    reader.poll()
    (batch,) = reader.live_batches
    assert batch.data == data and batch.data_hash == r.get_batch(0).data_hash
    assert r.batch_data(bytes(receipt["transactionHash"])) == data


# --- revert data -----------------------------------------------------------------------------------


def _custom_error_payloads() -> list[bytes]:
    """A well-formed payload of every custom error of every compiled contract."""
    out = []
    for abi in _abis():
        for entry in abi:
            if entry.get("type") == "error":
                types = [p["type"] for p in entry["inputs"]]
                selector = keccak(f"{entry['name']}({','.join(types)})".encode())[:4]
                values = [_zero(t) for t in types]
                out.append(selector + abi_encode(types, values))
    return out


def _abis() -> list[Any]:
    import json

    from l1_contracts.artifacts import ARTIFACTS

    return [json.loads(p.read_text())["abi"] for p in sorted(ARTIFACTS.glob("*.json"))]


def _zero(t: str) -> Any:
    if t.endswith("[]"):
        return []
    if t == "address":
        return "0x" + "00" * 20
    if t.startswith("bytes") and t != "bytes":
        return b"\x00" * int(t[5:])
    if t in ("bytes", "string"):
        return b"" if t == "bytes" else ""
    return 0 if t != "bool" else False


PAYLOADS = _custom_error_payloads()


@given(st.one_of(st.binary(max_size=200), st.sampled_from(PAYLOADS).flatmap(mutated)))
def test_revert_data_always_becomes_a_contract_revert(data: bytes) -> None:
    error = default_decoder().decode(data)
    assert isinstance(error, ContractRevert) and error.data == data


def test_every_custom_error_decodes_by_name() -> None:
    names = {default_decoder().decode(p).error_name for p in PAYLOADS}
    assert len(PAYLOADS) > 30 and "" not in names


class TransactionFailed(Exception):
    """eth-tester's exception, by name (how `revert_data` recognises it)."""


@given(st.text(max_size=200), st.binary(max_size=100))
def test_revert_data_of_any_exception_message(text: str, data: bytes) -> None:
    for exc in (
        TransactionFailed(f"execution reverted: {data!r}"),
        TransactionFailed(f"execution reverted: {text}"),
        TransactionFailed(text),
        ValueError(text),
    ):
        got = revert_data(exc)
        assert got is None or isinstance(got, bytes)
    assert revert_data(TransactionFailed(f"execution reverted: {data!r}")) == data
