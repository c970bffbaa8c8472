"""The Bridge on in-process eth-tester: wiring, deposits and their rolling hash, and withdrawals proven
against finalized L2 state roots built with protocol.transition (valid, forged, replayed, not final).

One deployment per module (`Env`, tests/support/l1.py); every test starts from its snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, Web3
from web3.types import Wei

from l1_contracts import errors
from l1_contracts.bindings import Bridge, KeySender, UnlockedSender, transact
from protocol.codec import encode_batch
from protocol.deposits import Deposit, deposit_hash, rolling_hashes
from protocol.hashing import ZERO32, keccak
from protocol.keys import account_key, withdrawal_key
from protocol.records import Withdrawal
from protocol.signing import address_of, sign_tx
from protocol.smt import SmtProof
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.txs import Withdraw
from tests.support.fees import FEE_PRICE, FEES
from tests.support.l1 import BLOCK_GAS_LIMIT, WINDOW, Env, deploy_raw, events, gas_cost, make_env, reverted

ETH = 10**18
USER_KEY = keccak(b"bridge test user")
USER = address_of(USER_KEY)  # the same key on L1 and L2


def _addr(raw: bytes) -> str:
    return Web3.to_checksum_address(raw)


@pytest.fixture(scope="module")
def deployed() -> Env:
    """One deployment for the module; `env` reverts it after each test."""
    return make_env()


@pytest.fixture
def env(deployed: Env) -> Iterator[Env]:
    with reverted(deployed.tester):
        yield deployed


# --- wiring ------------------------------------------------------------------------------------


def test_set_rollup_rules(env: Env) -> None:
    b = env.bridge
    assert b.deployer() == env.owner.address
    with pytest.raises(errors.RollupAlreadySet):
        b.set_rollup(env.owner, env.deployment.rollup)
    fresh = Bridge(env.w3, deploy_raw(env.w3, "Bridge", [], [], env.owner))
    assert fresh.rollup_address() == "0x" + "00" * 20
    with pytest.raises(errors.NotDeployer):
        fresh.set_rollup(env.sender(1), env.deployment.rollup)
    with pytest.raises(errors.ZeroAddress):
        fresh.set_rollup(env.owner, "0x" + "00" * 20)
    with pytest.raises(errors.RollupBridgeMismatch) as info:  # that Rollup was built on another Bridge
        fresh.set_rollup(env.owner, env.deployment.rollup)
    assert info.value.error_args == {"rollupBridge": env.deployment.bridge}
    with pytest.raises(errors.RollupNotSet):
        fresh.claim_withdrawal(env.owner, 0, 0, env.owner.address, 1, b"\x00\x00\x00", gas=200_000)


# --- deposits ----------------------------------------------------------------------------------


def test_deposits_and_rolling_hash(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    b = env.bridge
    start = env.w3.eth.block_number
    plan = [
        (env.sender(2), keccak(b"r0")[:20], ETH),
        (env.sender(3), keccak(b"r1")[:20], 1),
        (env.sender(2), USER, 7 * ETH),
    ]
    gas = []
    for i, (sender, recipient, amount) in enumerate(plan):
        receipt = b.deposit(sender, recipient, amount)
        gas.append(int(receipt["gasUsed"]))
        d = Deposit(i, recipient, amount)
        [event] = events(b.contract, "Deposited", receipt)
        assert event["index"] == i and event["l2Recipient"] == _addr(recipient)
        assert (event["from"], event["amount"]) == (sender.address, amount)
        assert event["depositHash"] == deposit_hash(d)
    expected = [Deposit(i, r, a) for i, (_, r, a) in enumerate(plan)]
    assert b.deposit_count() == 3
    assert b.balance() == sum(a for _, _, a in plan)
    assert [b.deposit_hash(i) for i in range(3)] == [deposit_hash(d) for d in expected]
    assert [b.rolling_hash(n) for n in range(4)] == [ZERO32, *rolling_hashes(expected)]
    assert b.deposits_since(start + 1) == expected
    assert [log.rolling_hash for log in b.deposit_logs(start + 1)] == rolling_hashes(expected)
    assert b.deposits_since(env.w3.eth.block_number) == [expected[-1]]
    with pytest.raises(errors.DepositOutOfRange) as info:
        b.rolling_hash(4)
    assert info.value.error_args == {"index": 4, "count": 3}
    with pytest.raises(errors.DepositOutOfRange):
        b.deposit_hash(3)
    with capsys.disabled():
        print(f"\ndeposit gas: first {gas[0]}, next {gas[1]}, {gas[2]}")


def test_deposit_rejections(env: Env) -> None:
    b = env.bridge
    with pytest.raises(errors.ZeroDeposit):
        b.deposit(env.sender(2), USER, 0)
    with pytest.raises(errors.ZeroAddress):
        b.deposit(env.sender(2), b"\x00" * 20, 1)
    assert b.deposit_count() == 0 and b.balance() == 0


def test_deposit_too_large() -> None:
    """Above 2^128 - 1 wei (an account that rich exists only on a test chain)."""
    params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": BLOCK_GAS_LIMIT})
    state = PyEVMBackend.generate_genesis_state(overrides={"balance": 2**130}, num_accounts=1)
    w3 = Web3(
        EthereumTesterProvider(EthereumTester(PyEVMBackend(genesis_parameters=params, genesis_state=state)))
    )
    rich = UnlockedSender(w3.eth.accounts[0])
    bridge = Bridge(w3, deploy_raw(w3, "Bridge", [], [], rich))
    with pytest.raises(errors.DepositTooLarge) as info:
        bridge.deposit(rich, USER, 2**128)
    assert info.value.error_args == {"amount": 2**128}
    bridge.deposit(rich, USER, 2**128 - 1)
    assert bridge.deposits_since(0) == [Deposit(0, USER, 2**128 - 1)]


# --- withdrawals -------------------------------------------------------------------------------


@dataclass
class Withdrawn:
    env: Env
    result: BatchResult
    recipient: bytes
    amount: int

    def proof(self, withdrawal_id: int = 0) -> bytes:
        return self.result.post_state.tree.prove(withdrawal_key(withdrawal_id)).encode()


def withdraw_flow(env: Env, recipient: bytes, amount: int, *, finalize: bool = True) -> Withdrawn:
    """Deposit 10 ETH for USER on L1; an L2 batch consumes it and USER withdraws `amount` to `recipient`."""
    env.bridge.deposit(env.sender(2), USER, 10 * ETH)
    deposit = env.bridge.deposits_since(env.w3.eth.block_number)[0]
    ts = env.now()
    tx = sign_tx(env.domain, Withdraw(0, recipient, amount, max_fee_price=FEE_PRICE), USER_KEY).encoded
    result = apply_batch(State(), [deposit], [tx], BatchContext(env.domain, FEES, ts))
    assert result.receipts[0].reason == 0
    assert result.post_state.withdrawal(0) == Withdrawal(recipient, amount)
    env.rollup.bond(env.proposer)
    data = encode_batch(ts, [tx])
    env.rollup.append_batch(
        env.proposer, data, State().root, result.post_root, result.trace_root, 1, gas=400_000
    )
    if finalize:
        env.advance(WINDOW)
        env.rollup.finalize(env.owner)
        assert env.rollup.finalized_root(0) == result.post_root
    return Withdrawn(env, result, recipient, amount)


def test_withdrawal_valid_then_replayed(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    recipient = bytes.fromhex(env.sender(5).address[2:])
    w = withdraw_flow(env, recipient, 3 * ETH)
    b = env.bridge
    assert not b.is_claimed(0)
    bridge_before, recipient_before = b.balance(), env.balance(_addr(recipient))
    relayer = env.sender(6)  # anyone may submit the claim; the ETH goes to the recipient
    receipt = b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, w.proof())
    assert b.balance() == bridge_before - w.amount
    assert env.balance(_addr(recipient)) == recipient_before + w.amount
    assert b.is_claimed(0) and not b.is_claimed(1)
    [event] = events(b.contract, "WithdrawalClaimed", receipt)
    assert event == {"withdrawalId": 0, "recipient": _addr(recipient), "batchIndex": 0, "amount": w.amount}
    [claimed] = b.withdrawals_claimed(receipt["blockNumber"])
    assert (claimed.withdrawal_id, claimed.amount, claimed.batch_index) == (0, w.amount, 0)
    with pytest.raises(errors.AlreadyClaimed) as info:
        b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, w.proof())
    assert info.value.error_args == {"withdrawalId": 0}
    # nor against a later finalized root holding the same leaf
    env.post(txs=[b"\x01\x02"], deposits=1)
    env.advance(WINDOW)
    env.rollup.finalize(env.owner)
    with pytest.raises(errors.AlreadyClaimed):
        b.claim_withdrawal(relayer, 1, 0, recipient, w.amount, w.proof())
    assert b.balance() == bridge_before - w.amount
    with capsys.disabled():
        print(f"\nclaimWithdrawal gas: {receipt['gasUsed']} (proof {len(w.proof())} bytes)")


def test_withdrawal_claimed_with_a_local_key(env: Env) -> None:
    """The L1 owner signs its own claim with eth-account (`KeySender`), as on a public chain."""
    w = withdraw_flow(env, USER, 2 * ETH)
    key_sender = KeySender(USER_KEY)
    assert key_sender.address == _addr(USER)
    env.w3.eth.send_transaction({"from": env.owner.address, "to": key_sender.address, "value": Wei(ETH)})
    before = env.balance(key_sender.address)
    receipt = env.bridge.claim_withdrawal(key_sender, 0, 0, USER, w.amount, w.proof())
    assert env.balance(key_sender.address) == before + w.amount - gas_cost(receipt)
    assert env.w3.eth.get_transaction(receipt["transactionHash"])["from"] == key_sender.address


def test_withdrawal_forged(env: Env) -> None:
    recipient = bytes.fromhex(env.sender(5).address[2:])
    w = withdraw_flow(env, recipient, 3 * ETH)
    b, relayer = env.bridge, env.sender(6)
    with pytest.raises(errors.InvalidProof):  # more than was withdrawn
        b.claim_withdrawal(relayer, 0, 0, recipient, w.amount + 1, w.proof())
    with pytest.raises(errors.InvalidProof):  # to someone else
        b.claim_withdrawal(relayer, 0, 0, env.sender(6).address, w.amount, w.proof())
    with pytest.raises(errors.InvalidProof):  # a withdrawal that does not exist (its exclusion proof)
        b.claim_withdrawal(relayer, 0, 1, recipient, w.amount, w.proof(1))
    with pytest.raises(errors.InvalidProof):  # another leaf's proof (the user's account)
        b.claim_withdrawal(
            relayer, 0, 0, recipient, w.amount, w.result.post_state.tree.prove(account_key(USER)).encode()
        )
    with pytest.raises(errors.MalformedSmtProof) as info:  # an exclusion proof whose leaf is off the path
        b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, b"\x00\x00\x01" + withdrawal_key(0) + ZERO32)
    assert info.value.error_args == {"reason": 7}
    tampered = bytearray(w.proof())
    tampered[-2] ^= 1
    with pytest.raises(errors.InvalidProof):
        b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, bytes(tampered))
    with pytest.raises(errors.MalformedSmtProof):
        b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, w.proof() + b"\x00")
    bogus = SmtProof((keccak(b"a"), keccak(b"b")))
    with pytest.raises(errors.InvalidProof):
        b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, bogus)
    assert not b.is_claimed(0) and b.balance() == 10 * ETH


def test_withdrawal_not_final(env: Env) -> None:
    recipient = bytes.fromhex(env.sender(5).address[2:])
    w = withdraw_flow(env, recipient, ETH, finalize=False)
    b, relayer = env.bridge, env.sender(6)
    with pytest.raises(errors.NotFinalized) as info:
        b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, w.proof())
    assert info.value.error_args == {"batchIndex": 0}
    with pytest.raises(errors.NotFinalized):  # a batch that does not exist
        b.claim_withdrawal(relayer, 5, 0, recipient, w.amount, w.proof())
    env.advance(WINDOW - 5)
    env.rollup.finalize(env.owner)
    with pytest.raises(errors.NotFinalized):
        b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, w.proof())
    env.advance(5)
    env.rollup.finalize(env.owner)
    b.claim_withdrawal(relayer, 0, 0, recipient, w.amount, w.proof())
    assert b.balance() == 10 * ETH - w.amount


def test_withdrawal_to_a_contract_that_refuses_ether(env: Env) -> None:
    rejecter = deploy_raw(env.w3, "EtherRejecterHarness", [], [], env.owner)
    w = withdraw_flow(env, bytes.fromhex(rejecter[2:]), ETH)
    with pytest.raises(errors.TransferFailed) as info:
        env.bridge.claim_withdrawal(env.sender(6), 0, 0, rejecter, w.amount, w.proof())
    assert info.value.error_args == {"to": rejecter, "amount": ETH}
    assert not env.bridge.is_claimed(0) and env.bridge.balance() == 10 * ETH  # still claimable later


def test_revert_without_preflight_is_decoded_from_the_mined_transaction(env: Env) -> None:
    """With preflight off the transaction is mined with status 0; the binding replays it to name the error."""
    w = withdraw_flow(env, USER, ETH, finalize=False)
    b = Bridge(env.w3, env.deployment.bridge, preflight=False)
    with pytest.raises(errors.NotFinalized) as info:
        b.claim_withdrawal(env.sender(6), 0, 0, USER, w.amount, w.proof())
    assert info.value.tx_hash is not None
    receipt = env.w3.eth.get_transaction_receipt(HexBytes(info.value.tx_hash))
    assert receipt["status"] == 0
    with pytest.raises(errors.TransactionReverted):  # out of gas: no revert data to decode
        b.claim_withdrawal(env.sender(6), 0, 0, USER, w.amount, w.proof(), gas=30_000)


def test_claim_gas_in_a_large_state(capsys: pytest.CaptureFixture[str]) -> None:
    """A claim against a state of 2^16 leaves (a proof of about 17 siblings)."""
    leaves = [(keccak(i.to_bytes(4, "big")), b"\x01" * 24) for i in range(2**16)]
    recipient = keccak(b"large state recipient")[:20]
    leaves.append((withdrawal_key(7), Withdrawal(recipient, ETH).encode()))
    state = State.from_leaves(leaves)
    env = make_env(genesis_root=state.root)
    env.bridge.deposit(env.sender(2), USER, 2 * ETH)
    env.rollup.bond(env.proposer)
    env.post(deposits=1, post_root=state.root)
    env.advance(WINDOW)
    env.rollup.finalize(env.owner)
    proof = state.tree.prove(withdrawal_key(7))
    receipt = env.bridge.claim_withdrawal(env.sender(6), 0, 7, recipient, ETH, proof)
    assert env.balance(_addr(recipient)) == ETH
    with capsys.disabled():
        print(
            f"\nclaimWithdrawal gas in a 2^16-leaf state: {receipt['gasUsed']} "
            f"({len(proof.siblings)} siblings, {len(proof.encode())} proof bytes)"
        )


def test_plain_ether_transfers_are_refused(env: Env) -> None:
    """Neither contract takes ETH outside `deposit` and `bond`, so none can get stuck there."""
    for address in (env.deployment.bridge, env.deployment.rollup):
        with pytest.raises(errors.ContractRevert):
            transact(env.w3, env.owner, to=address, data=b"", value=ETH, gas=100_000)
    assert env.bridge.balance() == 0 and env.balance(env.deployment.rollup) == 0
