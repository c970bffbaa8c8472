"""The L1 one-step prover agrees with `protocol.witness.reexecute` bit for bit.

Golden vectors (every step of tests/vectors/batches.json, with each tx's receipt reason), every tx
type's EIP-712 digest and signer, tx decoding on mutated bytes, the witness encoding, NO_STEP, and
tampered witnesses (each reverts). Random steps of every kind: tests/l1/test_prover_random.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from l1_contracts import errors
from l1_contracts.bindings.prover import StepContext
from l1_contracts.bindings.tx import call_view
from protocol.codec import decode_tx
from protocol.deposits import Deposit
from protocol.errors import CodecError
from protocol.fees import FeeSchedule
from protocol.params import MAX_RANGE_PROOF
from protocol.receipts import Reason
from protocol.serialize import unhx, witness_from_json
from protocol.signing import signing_digest, struct_hash
from protocol.smt import SmtProof
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from protocol.txs import RevealTestSet, Transfer
from protocol.witness import (
    NO_STEP,
    StateAccess,
    StepWitness,
    TxInclusion,
    build_witness,
    decode_witness,
    encode_witness,
    reexecute,
)
from tests.l1.prover_env import CALL_GAS, ProverEnv
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT, FEES
from tests.support.wallets import ETH, Wallet

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


@pytest.fixture(scope="module")
def env() -> Iterator[ProverEnv]:
    yield ProverEnv()


@pytest.fixture(scope="module")
def golden(env: ProverEnv) -> list[dict[str, Any]]:
    """The golden batches, with their deposits queued on the Bridge."""
    batches: list[dict[str, Any]] = json.loads((VECTORS / "batches.json").read_text())
    for batch in batches:
        for d in batch["deposits"]:
            queued = env.deposit(unhx(d["recipient"]), int(d["amount"]))
            assert queued == Deposit(d["index"], unhx(d["recipient"]), int(d["amount"]))
    return batches


def _witnesses(golden: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any], StepWitness]]:
    """(deposit start, step vector, witness) of every golden step."""
    start = 0
    for batch in golden:
        for step in batch["steps"]:
            yield start, step, witness_from_json(step["witness"])
        start += len(batch["deposits"])


def _find(golden: list[dict[str, Any]], pred: Any) -> tuple[int, StepWitness]:
    for start, _, witness in _witnesses(golden):
        if pred(witness):
            return start, witness
    raise AssertionError("no golden step matches")


# --- agreement -----------------------------------------------------------------------------------


def test_golden_vectors(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    kinds = set()
    for start, step, witness in _witnesses(golden):
        raw = encode_witness(witness)
        assert decode_witness(raw) == witness
        pre, post = env.prover.prove_step(env.context(witness, DOMAIN, start), raw)  # prove_step_gas's limit
        assert pre == witness.pre_step_hash
        assert post == unhx(step["step_hash"]) == reexecute(witness, DOMAIN, FEES).step_hash
        kinds.add(step["kind"])
    assert kinds == {1, 2, 3, 4}


def test_golden_receipt_reasons(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    """The Solidity executors fail a tx for the same reason as Python (the order of checks)."""
    for batch in golden:
        reasons = [r["reason"] for r in batch["receipts"]]
        got = [
            env.tx_reason(witness_from_json(s["witness"]), DOMAIN)
            for s in batch["steps"]
            if s["witness"]["tx"] is not None
        ]
        assert got == reasons


def _decode_sol(env: ProverEnv, raw: bytes) -> tuple[bool, int, bytes, bytes, str]:
    out = call_view(_Call(env.codec.functions.decode(raw, DOMAIN.separator)))
    return bool(out[0]), int(out[1]), bytes(out[2]), bytes(out[3]), str(out[4])


class _Call:
    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def call(self) -> Any:
        return self.fn.call({"gas": CALL_GAS})


def test_digest_and_signer_of_every_tx_type(env: ProverEnv) -> None:
    vectors = json.loads((VECTORS / "txs.json").read_text())
    assert {v["type"] for v in vectors} == set(range(1, 11))
    for v in vectors:
        ok, tx_type, sh, digest, signer = _decode_sol(env, unhx(v["encoded"]))
        assert ok and tx_type == v["type"], v["name"]
        assert sh == unhx(v["struct_hash"]), v["name"]
        assert digest == unhx(v["digest"]), v["name"]
        assert signer.lower() == v["signer"].lower(), v["name"]


_TXS = [unhx(v["encoded"]) for v in json.loads((VECTORS / "txs.json").read_text())]


@st.composite
def mutated_tx(draw: st.DrawFn) -> bytes:
    """A golden tx with a few bytes flipped, cut, inserted or appended: mostly undecodable."""
    raw = bytearray(draw(st.sampled_from(_TXS)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "append", "byte0"]))
        pos = draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del raw[pos:]
        elif op == "insert":
            raw[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif op == "append":
            raw += draw(st.binary(min_size=1, max_size=4))
        else:
            raw[:1] = bytes([draw(st.integers(0, 12))])
    return bytes(raw)


@settings(max_examples=40)
@given(raw=mutated_tx())
def test_decoding_agrees_on_mutated_txs(env: ProverEnv, raw: bytes) -> None:
    ok, tx_type, sh, digest, _ = _decode_sol(env, raw)
    try:
        signed = decode_tx(raw)
    except CodecError:
        assert not ok
        return
    assert ok and tx_type == signed.type
    assert sh == struct_hash(signed.tx)
    assert digest == signing_digest(DOMAIN, signed.tx)


def test_range_proof_count_bound_on_both_sides(env: ProverEnv) -> None:
    """A RevealTestSet's proof holds at most MAX_RANGE_PROOF hashes: TxCodec and decode_tx accept 20
    and refuse 21, or a count that claims more hashes than the tx has."""
    golden = next(t for t in _TXS if t[0] == 5)  # the RevealTestSet vector
    tx = decode_tx(golden).tx
    assert isinstance(tx, RevealTestSet)
    body, sig = golden[:-73], golden[-73:]  # the proof is followed by maxFeePrice (8) and the signature
    head = body[: len(body) - 1 - 32 * len(tx.proof)]  # all but the proof: its count byte and hashes
    cases = {
        "longest": head + bytes([MAX_RANGE_PROOF]) + b"\x11" * 32 * MAX_RANGE_PROOF + sig,
        "too many": head + bytes([MAX_RANGE_PROOF + 1]) + b"\x11" * 32 * (MAX_RANGE_PROOF + 1) + sig,
        "short": head + bytes([3]) + b"\x11" * 64 + sig,
    }
    for name, raw in cases.items():
        ok = _decode_sol(env, raw)[0]
        try:
            decode_tx(raw)
            python_ok = True
        except CodecError:
            python_ok = False
        assert ok == python_ok == (name == "longest"), name


def test_no_step_after_the_last(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    assert env.prover.no_step() == NO_STEP
    batch = golden[0]
    last = witness_from_json(batch["steps"][-1]["witness"])
    inputs = last.deposit_count + last.header.tx_count
    done = dataclasses.replace(
        last,
        pre_root=unhx(batch["post_root"]),
        pre_cursor=inputs,
        pre_job=None,
        deposit=None,
        tx=None,
        weights=None,
        accesses=(),
    )
    pre, post = env.prove(done, DOMAIN, 0)
    assert post == NO_STEP == reexecute(done, DOMAIN, FEES).step_hash
    assert pre == done.pre_step_hash


# --- tampered witnesses revert ---------------------------------------------------------------------


def _first_written_access(witness: StepWitness) -> int:
    return next(i for i, a in enumerate(witness.accesses) if a.value is not None)


def test_wrong_pre_value_reverts(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    start, witness = _find(golden, lambda w: w.tx is not None and any(a.value for a in w.accesses))
    i = _first_written_access(witness)
    a = witness.accesses[i]
    assert a.value is not None
    forged = StateAccess(a.key, bytes([a.value[0] ^ 1]) + a.value[1:], a.proof)
    bad = dataclasses.replace(witness, accesses=(*witness.accesses[:i], forged, *witness.accesses[i + 1 :]))
    with pytest.raises((errors.WitnessAccessProof, errors.SmtRootMismatch)):
        env.prove(bad, DOMAIN, start)


def test_wrong_proof_reverts(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    start, witness = _find(golden, lambda w: any(a.proof.siblings for a in w.accesses))
    i = next(i for i, a in enumerate(witness.accesses) if a.proof.siblings)
    a = witness.accesses[i]
    sibs = list(a.proof.siblings)
    sibs[-1] = bytes(31) + b"\x01"
    forged = StateAccess(a.key, a.value, SmtProof(tuple(sibs), a.proof.other_key, a.proof.other_value_hash))
    bad = dataclasses.replace(witness, accesses=(*witness.accesses[:i], forged, *witness.accesses[i + 1 :]))
    with pytest.raises((errors.WitnessAccessProof, errors.SmtRootMismatch)):
        env.prove(bad, DOMAIN, start)


def test_missing_or_duplicate_access_reverts(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    start, witness = _find(golden, lambda w: w.deposit is not None)
    with pytest.raises(errors.WitnessMissingAccess):
        env.prove(dataclasses.replace(witness, accesses=witness.accesses[1:]), DOMAIN, start)
    doubled = (*witness.accesses, witness.accesses[0])
    with pytest.raises(errors.WitnessDuplicateAccess):
        env.prove(dataclasses.replace(witness, accesses=doubled), DOMAIN, start)


def test_tx_not_in_batch_reverts(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    start, witness = _find(golden, lambda w: w.tx is not None and w.tx.index == 1)
    assert witness.tx is not None
    other = TxInclusion(witness.tx.raw + b"\x00", witness.tx.index, witness.tx.proof)
    with pytest.raises(errors.TxNotInBatch):
        env.prove(dataclasses.replace(witness, tx=other), DOMAIN, start)
    wrong_index = TxInclusion(witness.tx.raw, 0, witness.tx.proof)
    with pytest.raises(errors.WitnessInputMissing):
        env.prove(dataclasses.replace(witness, tx=wrong_index), DOMAIN, start)


def test_deposit_not_in_queue_reverts(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    start, witness = _find(golden, lambda w: w.deposit is not None)
    assert witness.deposit is not None
    more = dataclasses.replace(witness.deposit, amount=witness.deposit.amount + 1)
    with pytest.raises(errors.DepositNotInQueue):
        env.prove(dataclasses.replace(witness, deposit=more), DOMAIN, start)
    with pytest.raises(errors.DepositNotInQueue):  # the right deposit, but the batch starts elsewhere
        env.prove(witness, DOMAIN, start + 1)


def test_deposit_out_of_order_reverts_in_both(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    """A pre-state whose meta.depositCount is not the deposit's index: Python and Solidity reject it."""
    from protocol.errors import WitnessError
    from protocol.keys import META_KEY
    from protocol.records import Meta
    from protocol.smt import SparseMerkleTree

    start, witness = _find(golden, lambda w: w.deposit is not None and w.deposit.index == 1)
    tree = SparseMerkleTree.empty().set(META_KEY, Meta(deposit_count=0).encode())  # should be 1
    accesses = (StateAccess(META_KEY, Meta(deposit_count=0).encode(), tree.prove(META_KEY)),)
    bad = dataclasses.replace(witness, pre_root=tree.root, accesses=accesses)
    with pytest.raises(WitnessError):
        reexecute(bad, DOMAIN, FEES)
    with pytest.raises(errors.DepositOutOfOrder):
        env.prove(bad, DOMAIN, start)


def test_wrong_weights_for_a_score_job_revert(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    start, witness = _find(golden, lambda w: w.weights is not None)
    assert witness.weights is not None
    wrong = (witness.weights[0] + 1, *witness.weights[1:])
    with pytest.raises(errors.WitnessWeightsMismatch):
        env.prove(dataclasses.replace(witness, weights=wrong), DOMAIN, start)
    with pytest.raises(errors.WitnessWeightsMismatch):
        env.prove(dataclasses.replace(witness, weights=None), DOMAIN, start)


def test_witness_of_another_batch_or_bridge_reverts(env: ProverEnv, golden: list[dict[str, Any]]) -> None:
    start, witness = _find(golden, lambda w: w.tx is not None)
    raw = encode_witness(witness)
    ctx = env.context(witness, DOMAIN, start)
    with pytest.raises(errors.WitnessHeaderMismatch):
        env.prover.prove_step(dataclasses.replace(ctx, batch_data_hash=bytes(32)), raw, gas=CALL_GAS)
    with pytest.raises(errors.WitnessDepositCountMismatch):
        env.prover.prove_step(dataclasses.replace(ctx, deposit_end=ctx.deposit_end + 1), raw, gas=CALL_GAS)
    with pytest.raises(errors.WrongBridge):
        env.prover.prove_step(dataclasses.replace(ctx, bridge=env.owner.address), raw, gas=CALL_GAS)
    for bad in (raw + b"\x00", raw[:-1]):
        with pytest.raises(errors.MalformedWitness):
            env.prover.prove_step(ctx, bad, gas=CALL_GAS)


def test_step_context_is_the_interface_struct(env: ProverEnv) -> None:
    fn: Any = next(e for e in env.prover.contract.abi if e.get("name") == "proveStep")
    types = [c["type"] for c in fn["inputs"][0]["components"]]
    assert types == ["bytes32", "bytes32", "uint64", "uint64", "address", "uint64", "address"]
    assert StepContext.__dataclass_fields__.keys() == {
        "domain_separator",
        "batch_data_hash",
        "deposit_start",
        "deposit_end",
        "bridge",
        "fee_price",
        "fee_recipient",
    }


def test_deployment_wires_the_executors(env: ProverEnv) -> None:
    assert env.prover.contract.functions.bridge().call() == env.bridge.address
    for address in env.prover.executors():
        assert (
            len(env.w3.eth.get_code(Web3.to_checksum_address(address))) > 10_000
        )  # each executor is its own contract


def test_every_prover_error_has_a_python_class() -> None:
    import re

    source = (Path(__file__).resolve().parents[2] / "l1_contracts/src/prover/ProverErrors.sol").read_text()
    declared = set(re.findall(r"^error (\w+)\(", source, re.MULTILINE))
    assert declared == set(errors.PROVER_ERRORS)


# --- fees --------------------------------------------------------------------------------------------


def _fee_step(env: ProverEnv, ctx_fees: FeeSchedule, step_fees: FeeSchedule) -> tuple[bytes, bytes, bytes]:
    """A funded Transfer executed honestly under `ctx_fees`, and by a proposer who charged
    `step_fees` instead: (the prover's post step hash, the honest leaf, the dishonest leaf)."""
    alice, bob = Wallet.from_seed(1), Wallet.from_seed(2)
    state = State.with_balances({alice.address: ETH})
    raw = alice.sign(lambda n: Transfer(n, bob.address, 5, max_fee_price=FEE_PRICE), nonce=0)
    honest = apply_batch(state, [], [raw], BatchContext(DOMAIN, ctx_fees, 1_000))
    wrong = apply_batch(state, [], [raw], BatchContext(DOMAIN, step_fees, 1_000))
    _, post = env.prove(build_witness(honest, 0), DOMAIN, 0, ctx_fees)
    return post, honest.steps[0].hash, wrong.steps[0].hash


def test_a_fee_step_is_proven_and_a_wrong_charge_is_fraud(env: ProverEnv) -> None:
    """The prover charges the Rollup's fee schedule (StepContext): the honest fee step proves correct,
    and a proposer that charged nothing, another price or another recipient is proven wrong."""
    post, honest, _ = _fee_step(env, FEES, FEES)
    assert post == honest
    for other in (
        FeeSchedule(0, FEE_RECIPIENT),
        FeeSchedule(FEE_PRICE + 1, FEE_RECIPIENT),
        FeeSchedule(FEE_PRICE, b"\x01" * 20),
    ):
        post, honest, wrong = _fee_step(env, FEES, other)
        assert post == honest != wrong, other


def test_a_failed_fee_check_pays_nothing_on_l1(env: ProverEnv) -> None:
    """FEE_PRICE_TOO_LOW and FEE_UNPAID on the Solidity side: the same reasons, nothing charged."""
    poor, bob = Wallet.from_seed(9), Wallet.from_seed(2)
    state = State.with_balances({poor.address: 1_000})
    low = poor.sign(lambda n: Transfer(n, bob.address, 0, max_fee_price=FEE_PRICE - 1), nonce=0)
    unpaid = poor.sign(lambda n: Transfer(n, bob.address, 0, max_fee_price=FEE_PRICE), nonce=0)
    result = apply_batch(state, [], [low, unpaid], BatchContext(DOMAIN, FEES, 1_000))
    assert [r.reason for r in result.receipts] == [Reason.FEE_PRICE_TOO_LOW, Reason.FEE_UNPAID]
    env.check_all(result, DOMAIN)
    for receipt in result.receipts:
        assert env.tx_reason(build_witness(result, receipt.first_step), DOMAIN) == receipt.reason
    assert result.post_root == state.root
