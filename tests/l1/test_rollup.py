"""The Rollup contract on in-process eth-tester: bonds, access control, the batch rules, the challenge
window and finalization order, events, the rollback hook, and the gas of `appendBatch`.

One deployment per module (`Env`, tests/support/l1.py); every test starts from its snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from l1_contracts import errors
from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings import BatchStatus, Rollup, append_batch_gas, transact
from l1_contracts.bindings.tx import default_decoder
from l1_contracts.deploy import ROLLUP_CONSTRUCTOR
from protocol.codec import batch_data_hash, decode_batch, encode_batch, tx_root
from protocol.hashing import keccak
from protocol.signing import address_of, sign_tx
from protocol.state import State
from protocol.transition import BatchContext, apply_batch
from protocol.txs import Transfer
from tests.support.fees import FEE_PRICE, FEES
from tests.support.l1 import (
    BOND,
    JUNK_TX,
    TRACE,
    WINDOW,
    Env,
    deploy_raw,
    events,
    gas_cost,
    make_env,
    reverted,
)


@pytest.fixture(scope="module")
def deployed() -> Env:
    """One deployment for the module; `env` reverts it after each test."""
    return make_env()


@pytest.fixture
def env(deployed: Env) -> Iterator[Env]:
    with reverted(deployed.tester):
        yield deployed


@pytest.fixture
def bonded(env: Env) -> Env:
    env.rollup.bond(env.proposer)
    return env


# --- deployment and parameters -------------------------------------------------------------------


def test_parameters(env: Env) -> None:
    r = env.rollup
    assert r.bridge_address() == env.deployment.bridge
    assert r.genesis_root() == State().root == r.last_root() == r.last_finalized_root()
    assert (r.bond_amount(), r.challenge_window()) == (BOND, WINDOW)
    assert (r.batch_count(), r.finalized_count(), r.finalizable()) == (0, 0, 0)
    assert env.bridge.rollup_address() == env.deployment.rollup


def test_constructor_rejects_bad_parameters(env: Env) -> None:
    d = env.deployment
    good = [d.bridge, b"\x00" * 32, BOND, WINDOW, d.prover, 10**17, 60, 120, 5_000, 10**9, d.deployer]

    def with_(i: int, value: Any) -> list[Any]:
        return [*good[:i], value, *good[i + 1 :]]

    zero = "0x" + "00" * 20
    deploy_raw(env.w3, "Rollup", ROLLUP_CONSTRUCTOR, good, env.owner)  # the baseline is valid
    for args in (with_(0, zero), with_(4, zero), with_(10, zero)):  # bridge, prover, fee recipient
        with pytest.raises(errors.ZeroAddress):
            deploy_raw(env.w3, "Rollup", ROLLUP_CONSTRUCTOR, args, env.owner)
    bad = [
        with_(2, 0),  # no proposer bond
        with_(3, 2**64),  # challenge window
        with_(5, 0),  # no challenger bond
        with_(6, 0),  # response window
        with_(6, 2**32),
        with_(7, 0),  # proof window
        with_(7, 2**32),
        with_(8, 10_001),  # share above 100%
        with_(9, 2**64),  # a fee price no tx's u64 max_fee_price can reach
    ]
    for args in bad:
        with pytest.raises(errors.InvalidParameter):
            deploy_raw(env.w3, "Rollup", ROLLUP_CONSTRUCTOR, args, env.owner)


def test_every_custom_error_has_a_python_class() -> None:
    source = (Path(__file__).resolve().parents[2] / "l1_contracts" / "src" / "Errors.sol").read_text()
    declared = set(re.findall(r"^error (\w+)\(", source, re.MULTILINE))
    assert declared == set(errors.CUSTOM_ERRORS)
    assert declared <= default_decoder().names()
    for name, cls in errors.CUSTOM_ERRORS.items():
        assert cls.__name__ == name and issubclass(cls, errors.ContractRevert)


# --- bonds -----------------------------------------------------------------------------------------


def test_bond_amount_must_be_exact(env: Env) -> None:
    with pytest.raises(errors.WrongBondAmount) as info:
        env.rollup.bond(env.proposer, value=BOND - 1)
    assert info.value.error_args == {"sent": BOND - 1, "required": BOND}
    with pytest.raises(errors.WrongBondAmount):
        env.rollup.bond(env.proposer, value=BOND + 1)
    assert env.rollup.bond_of(env.proposer.address) == 0


def test_bond_twice_rejected(env: Env) -> None:
    receipt = env.rollup.bond(env.proposer)
    assert events(env.rollup.contract, "Bonded", receipt) == [
        {"proposer": env.proposer.address, "amount": BOND}
    ]
    assert env.rollup.bond_of(env.proposer.address) == BOND
    assert env.balance(env.rollup.address) == BOND
    with pytest.raises(errors.AlreadyBonded):
        env.rollup.bond(env.proposer)


def test_unbond_without_bond(env: Env) -> None:
    with pytest.raises(errors.NotBonded):
        env.rollup.unbond(env.proposer)


def test_unbond_locked_until_batches_final(bonded: Env) -> None:
    env, r, p = bonded, bonded.rollup, bonded.proposer
    env.post()
    env.post()
    assert r.pending_batches_of(p.address) == 2
    with pytest.raises(errors.BondLocked) as info:
        r.unbond(p)
    assert info.value.error_args == {"pendingBatches": 2}
    env.advance(WINDOW)
    r.finalize(env.owner, 1)
    with pytest.raises(errors.BondLocked):
        r.unbond(p)
    r.finalize(env.owner)
    assert r.pending_batches_of(p.address) == 0
    before = env.balance(p.address)
    receipt = r.unbond(p)
    assert env.balance(p.address) == before + BOND - gas_cost(receipt)
    assert env.balance(r.address) == 0
    assert events(r.contract, "Unbonded", receipt) == [{"proposer": p.address, "amount": BOND}]
    assert r.bond_of(p.address) == 0
    with pytest.raises(errors.NotBonded):
        r.unbond(p)
    with pytest.raises(errors.NotBonded):
        env.post()
    r.bond(p)  # bond again after unbonding
    env.post()


def test_unbond_to_a_contract_that_refuses_ether(env: Env) -> None:
    rejecter = env.w3.eth.contract(
        address=Web3.to_checksum_address(deploy_raw(env.w3, "EtherRejecterHarness", [], [], env.owner)),
        abi=load_artifact("EtherRejecterHarness").abi,
    )
    r = env.rollup
    bond_call = bytes.fromhex(r.contract.encode_abi("bond", args=[])[2:])
    data = rejecter.encode_abi("execute", args=[r.address, bond_call])
    transact(env.w3, env.owner, to=rejecter.address, data=bytes.fromhex(data[2:]), value=BOND, gas=200_000)
    assert r.bond_of(rejecter.address) == BOND
    unbond_call = bytes.fromhex(r.contract.encode_abi("unbond", args=[])[2:])
    data = rejecter.encode_abi("execute", args=[r.address, unbond_call])
    with pytest.raises(errors.TransferFailed) as info:
        transact(env.w3, env.owner, to=rejecter.address, data=bytes.fromhex(data[2:]), gas=200_000)
    assert info.value.error_args == {"to": rejecter.address, "amount": BOND}
    assert r.bond_of(rejecter.address) == BOND  # nothing lost: the bond is still there


# --- appendBatch rules -----------------------------------------------------------------------------


def test_unbonded_poster_rejected(bonded: Env) -> None:
    with pytest.raises(errors.NotBonded):
        bonded.post(bonded.sender(2))
    assert bonded.rollup.batch_count() == 0


def test_append_relayed_by_a_contract_rejected(bonded: Env) -> None:
    """Batch data must be the transaction's own calldata (data availability for every verifier): a
    bonded contract that relays `appendBatch` is refused."""
    env, r = bonded, bonded.rollup
    relay = env.w3.eth.contract(
        address=Web3.to_checksum_address(deploy_raw(env.w3, "EtherRejecterHarness", [], [], env.owner)),
        abi=load_artifact("EtherRejecterHarness").abi,
    )
    bond_call = bytes.fromhex(r.contract.encode_abi("bond", args=[])[2:])
    data = relay.encode_abi("execute", args=[r.address, bond_call])
    transact(env.w3, env.owner, to=relay.address, data=bytes.fromhex(data[2:]), value=BOND, gas=200_000)
    batch = encode_batch(env.now(), [JUNK_TX])
    append = r.contract.encode_abi(
        "appendBatch", args=[batch, env.deployment.genesis_root, keccak(b"post"), TRACE, 0]
    )
    data = relay.encode_abi("execute", args=[r.address, bytes.fromhex(append[2:])])
    with pytest.raises(errors.NotDirectCall):
        transact(env.w3, env.owner, to=relay.address, data=bytes.fromhex(data[2:]), gas=600_000)
    assert r.batch_count() == 0


def test_append_stores_and_emits_every_field(bonded: Env) -> None:
    env, r = bonded, bonded.rollup
    env.bridge.deposit(env.sender(3), env.sender(4).address, 5 * 10**17)
    env.bridge.deposit(env.sender(3), env.sender(5).address, 10**17)
    ts = env.now()
    txs = [JUNK_TX, b"", b"\x02" * 150]
    data = encode_batch(ts, txs)
    post_root = keccak(b"post")
    receipt = r.append_batch(
        env.proposer, data, env.deployment.genesis_root, post_root, TRACE, 2, gas=500_000
    )
    block = env.w3.eth.get_block(receipt["blockNumber"])
    info = r.get_batch(0)
    header, _ = decode_batch(data)
    assert info.data_hash == batch_data_hash(header, txs)
    assert (info.post_root, info.trace_root, info.deposit_count) == (post_root, TRACE, 2)
    assert info.deposit_rolling_hash == env.bridge.rolling_hash(2)
    assert (info.l2_timestamp, info.l1_timestamp) == (ts, block["timestamp"])
    assert (info.status, info.proposer) == (BatchStatus.PENDING, env.proposer.address)
    assert r.prev_root_of(0) == env.deployment.genesis_root
    assert r.last_root() == post_root and r.batch_count() == 1
    assert r.pending_batches_of(env.proposer.address) == 1
    [event] = r.batches_appended(receipt["blockNumber"], receipt["blockNumber"])
    assert (event.index, event.proposer, event.data_hash) == (0, env.proposer.address, info.data_hash)
    assert (event.prev_root, event.post_root, event.trace_root) == (
        env.deployment.genesis_root,
        post_root,
        TRACE,
    )
    assert (event.deposit_count, event.deposit_rolling_hash) == (2, info.deposit_rolling_hash)
    assert (event.l2_timestamp, event.l1_timestamp) == (ts, info.l1_timestamp)
    assert (event.tx_count, event.tx_root) == (3, tx_root(txs))
    assert r.batch_data(event.tx_hash) == data
    with pytest.raises(errors.NoSuchBatch) as info_err:
        r.get_batch(1)
    assert info_err.value.error_args == {"index": 1, "count": 1}
    with pytest.raises(errors.NoSuchBatch):
        r.prev_root_of(1)


def test_prev_root_must_chain(bonded: Env) -> None:
    env = bonded
    with pytest.raises(errors.PrevRootMismatch) as info:
        env.post(prev=b"\x01" * 32)
    assert info.value.error_args == {"expected": env.deployment.genesis_root, "given": b"\x01" * 32}
    env.post(post_root=b"\x05" * 32)
    with pytest.raises(errors.PrevRootMismatch):
        env.post(prev=env.deployment.genesis_root)
    env.post(prev=b"\x05" * 32)
    assert env.rollup.prev_root_of(1) == b"\x05" * 32


def test_deposit_count_rules(bonded: Env) -> None:
    env = bonded
    with pytest.raises(errors.DepositCountTooHigh) as info:
        env.post(deposits=1)
    assert info.value.error_args == {"given": 1, "available": 0}
    for i in range(3):
        env.bridge.deposit(env.sender(3), env.sender(4).address, 10**15 + i)
    env.post(deposits=2)
    assert env.rollup.get_batch(0).deposit_rolling_hash == env.bridge.rolling_hash(2)
    with pytest.raises(errors.DepositCountDecreased) as info2:
        env.post(deposits=1)
    assert info2.value.error_args == {"previous": 2, "given": 1}
    with pytest.raises(errors.DepositCountTooHigh):
        env.post(deposits=4)
    env.post(deposits=2)  # txs only
    env.post(deposits=3, txs=[])  # deposits only: not empty
    assert [env.rollup.get_batch(i).deposit_count for i in range(3)] == [2, 2, 3]


def test_timestamp_rules(bonded: Env) -> None:
    env = bonded
    later = env.now() + 1000
    with pytest.raises(errors.TimestampInFuture):
        env.post(ts=later)
    ts = env.now() - 10
    env.post(ts=ts)
    with pytest.raises(errors.TimestampDecreased) as info:
        env.post(ts=ts - 1)
    assert info.value.error_args == {"previous": ts, "given": ts - 1}
    env.post(ts=ts)  # equal is fine
    assert env.rollup.get_batch(1).l2_timestamp == ts


def test_empty_batch_rejected(bonded: Env) -> None:
    with pytest.raises(errors.EmptyBatch):
        bonded.post(txs=[])


def test_bad_framing_rejected(bonded: Env) -> None:
    data = encode_batch(bonded.now(), [JUNK_TX])
    with pytest.raises(errors.BatchVersion):
        bonded.post(data=b"\x02" + data[1:])
    with pytest.raises(errors.BatchTrailingBytes):
        bonded.post(data=data + b"\x00")
    with pytest.raises(errors.BatchTruncated):
        bonded.post(data=data[:-1])


# --- the window and finalization -------------------------------------------------------------------


def test_window_and_order(bonded: Env) -> None:
    env, r = bonded, bonded.rollup
    env.post()
    t0 = r.get_batch(0).l1_timestamp
    env.advance(WINDOW // 2)
    env.post()
    t1 = r.get_batch(1).l1_timestamp
    # too early: nothing to finalize (not an error), nothing final
    receipt = r.finalize(env.owner)
    assert events(r.contract, "BatchFinalized", receipt) == []
    assert (r.finalized_count(), r.finalizable(), r.is_finalized(0)) == (0, 0, False)
    with pytest.raises(errors.BatchNotFinalized) as info:
        r.finalized_root(0)
    assert info.value.error_args == {"index": 0}
    # batch 0's window has passed, batch 1's not yet
    env.advance(t0 + WINDOW - env.now() - 1)  # the next block is at t0 + WINDOW
    receipt = r.finalize(env.sender(7))  # anyone may finalize
    assert events(r.contract, "BatchFinalized", receipt) == [
        {"index": 0, "postRoot": r.get_batch(0).post_root}
    ]
    assert r.finalized_count() == 1 and r.is_finalized(0) and not r.is_finalized(1)
    assert r.finalized_root(0) == r.get_batch(0).post_root == r.last_finalized_root()
    assert r.get_batch(0).status == BatchStatus.FINALIZED
    assert r.get_batch(1).status == BatchStatus.PENDING
    env.advance(t1 + WINDOW - env.now())
    assert r.finalizable() == 1
    r.finalize(env.owner)
    assert r.finalized_count() == 2 and r.last_finalized_root() == r.last_root()
    [f0, f1] = r.batches_finalized(env.deployment.block_number)
    assert (f0.index, f1.index) == (0, 1)


def test_finalize_respects_max_batches(bonded: Env) -> None:
    env, r = bonded, bonded.rollup
    for _ in range(4):
        env.post()
    env.advance(WINDOW)
    assert r.finalizable() == 4 and r.finalizable(3) == 3
    receipt = r.finalize(env.owner, 3)
    assert [e["index"] for e in events(r.contract, "BatchFinalized", receipt)] == [0, 1, 2]
    assert r.finalized_count() == 3
    r.finalize(env.owner, 0)
    assert r.finalized_count() == 3
    r.finalize(env.owner, 10)
    assert r.finalized_count() == 4 and r.finalizable() == 0


def test_zero_window_finalizes_at_once() -> None:
    env = make_env(window=0)
    env.rollup.bond(env.proposer)
    env.post()
    assert env.rollup.finalizable() == 1
    env.rollup.finalize(env.owner)
    assert env.rollup.is_finalized(0)


# --- the rollback hook for the fraud proof ---------------------------------------------------------


def test_delete_from_rolls_back(env: Env) -> None:
    """`_deleteFrom` (through RollupHarness): statuses, counters; the chain continues from the kept batch."""
    d = env.deployment
    args = [d.bridge, b"\x00" * 32, BOND, WINDOW, d.prover, 10**17, 60, 120, 5_000, 10**9, d.deployer]
    harness = deploy_raw(env.w3, "RollupHarness", ROLLUP_CONSTRUCTOR, args, env.owner)
    r = Rollup(env.w3, harness)
    r.contract = env.w3.eth.contract(
        address=Web3.to_checksum_address(r.address), abi=load_artifact("RollupHarness").abi
    )
    sub = Env(env.w3, env.tester, env.deployment, r, env.bridge)
    other = env.sender(2)
    r.bond(env.proposer)
    r.bond(other)
    for i in range(2):
        env.bridge.deposit(env.sender(3), env.sender(4).address, 10**15 + i)
    sub.post(deposits=1)
    sub.post(other, deposits=2)
    sub.post(deposits=2)
    env.advance(WINDOW)
    r.finalize(env.owner, 1)
    delete = bytes.fromhex(r.contract.encode_abi("deleteFrom", args=[0])[2:])
    with pytest.raises(errors.NoSuchBatch):  # a final batch cannot be rolled back
        transact(env.w3, env.owner, to=r.address, data=delete, gas=300_000)
    delete = bytes.fromhex(r.contract.encode_abi("deleteFrom", args=[1])[2:])
    receipt = transact(env.w3, env.owner, to=r.address, data=delete, gas=300_000)
    assert [e["index"] for e in events(r.contract, "BatchDeleted", receipt)] == [2, 1]
    assert r.batch_count() == 1 and r.finalized_count() == 1
    assert r.pending_batches_of(env.proposer.address) == 0 and r.pending_batches_of(other.address) == 0
    r.unbond(other)  # its only batch was rolled back
    # the next batch chains on batch 0 and consumes deposit 1 again
    sub.post(deposits=2, prev=r.get_batch(0).post_root)
    assert r.get_batch(1).status == BatchStatus.PENDING
    assert r.get_batch(1).deposit_rolling_hash == env.bridge.rolling_hash(2)


# --- gas -------------------------------------------------------------------------------------------


def _calldata_cost(data: bytes) -> int:
    return sum(16 if b else 4 for b in data)


def _tokens(data: bytes) -> int:
    return sum(4 if b else 1 for b in data)


def test_append_batch_gas(capsys: pytest.CaptureFixture[str]) -> None:
    """appendBatch of honest batches of 10, 100 and 1,000 signed Transfers (real roots from apply_batch).

    Reported per L2 tx against the calldata floor (16 gas a non-zero byte, 4 a zero byte of batch data).
    On Prague a receipt charges max(21000 + calldata + execution, 21000 + 10 gas a calldata token)
    (EIP-7623), so the execution gas is measured separately through GasMeterHarness, on
    RollupGasHarness (a Rollup that lets the meter post; it skips the ~110 gas direct-call check).
    """
    keys = [keccak(b"gas sender" + bytes([i])) for i in range(20)]
    addrs = [address_of(k) for k in keys]
    state = State.with_balances({a: 10**24 for a in addrs})
    env = make_env(genesis_root=state.root)
    d = env.deployment
    args = [d.bridge, state.root, BOND, WINDOW, d.prover, 10**17, 60, 120, 5_000, 10**9, d.deployer]
    r = Rollup(env.w3, deploy_raw(env.w3, "RollupGasHarness", ROLLUP_CONSTRUCTOR, args, env.owner))
    r.bond(env.proposer)
    meter_address = deploy_raw(env.w3, "GasMeterHarness", [], [], env.owner)
    meter = env.w3.eth.contract(
        address=Web3.to_checksum_address(meter_address), abi=load_artifact("GasMeterHarness").abi
    )
    bond_call = bytes.fromhex(r.contract.encode_abi("bond", args=[])[2:])
    execute = bytes.fromhex(meter.encode_abi("execute", args=[r.address, bond_call])[2:])
    transact(env.w3, env.owner, to=meter_address, data=execute, value=BOND, gas=200_000)
    nonces = [0] * len(keys)
    rows = []
    for n in (10, 100, 1000):
        txs = []
        for i in range(n):
            s = i % len(keys)
            txs.append(
                sign_tx(
                    env.domain,
                    Transfer(nonces[s], addrs[(s + 1) % len(keys)], 10**15 + i, max_fee_price=FEE_PRICE),
                    keys[s],
                ).encoded
            )
            nonces[s] += 1
        ts = env.now()
        result = apply_batch(state, [], txs, BatchContext(env.domain, FEES, ts))
        assert all(rc.reason == 0 for rc in result.receipts)
        data = encode_batch(ts, txs)
        args = [data, state.root, result.post_root, result.trace_root, 0]
        call = bytes.fromhex(r.contract.encode_abi("appendBatch", args=args)[2:])
        # the meter's own cost (cold CALL, calldata copied to memory): the same call to a codeless account
        overhead = int(
            meter.functions.measure(Web3.to_checksum_address("0x" + "de" * 20), call).call(
                {"gas": 50_000_000}
            )
        )
        metered = int(meter.functions.measure(r.address, call).call({"gas": 50_000_000})) - overhead
        receipt = r.append_batch(
            env.proposer, data, state.root, result.post_root, result.trace_root, 0, gas=append_batch_gas(data)
        )
        used = int(receipt["gasUsed"])
        floor_7623 = 21_000 + 10 * _tokens(call)
        if used > floor_7623:  # the receipt shows the execution gas exactly
            execution = used - 21_000 - _calldata_cost(call)
            assert abs(metered - execution) < 0.01 * execution
        else:  # hidden under the EIP-7623 floor: the meter's figure
            execution = metered
        standard = 21_000 + _calldata_cost(call) + execution
        assert used == max(standard, floor_7623) or used == floor_7623
        assert used < append_batch_gas(data) < 2 * used
        rows.append((n, len(data), _calldata_cost(data), execution, standard, used))
        state = result.post_state
    assert r.batch_count() == 3 and r.last_root() == state.root
    (n0, _, _, ex0, _, _), _, (n2, _, _, ex2, _, _) = rows
    per_tx_execution = (ex2 - ex0) / (n2 - n0)
    assert per_tx_execution < 600, "parsing, hashing and the tx root should cost a few hundred gas a tx"
    with capsys.disabled():
        print("\nappendBatch gas (honest Transfer batches; floor = 16/non-zero + 4/zero byte of batch data)")
        print(
            f"{'txs':>6} {'bytes':>8} {'floor/tx':>9} {'exec':>9} {'exec/tx':>8} {'std/tx':>8} "
            f"{'receipt/tx':>10}"
        )
        for n, size, floor, execution, standard, used in rows:
            print(
                f"{n:>6} {size:>8} {floor / n:>9.0f} {execution:>9} {execution / n:>8.0f} "
                f"{standard / n:>8.0f} {used / n:>10.0f}"
            )
        print(f"marginal execution per tx (10 -> 1000): {per_tx_execution:.0f} gas")
