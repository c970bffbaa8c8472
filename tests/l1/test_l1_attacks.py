"""The attacks on L1 of docs/results/reliability.md, each against the real contracts (Bridge, Rollup, the
one-step prover) on in-process eth-tester, over one honest batch built with `protocol.transition`.

Each attack must fail with its custom error, or do nothing, and move no ETH: every account and
contract of the game keeps its balance (a refused call is refused at its preflight and costs no gas;
a call that does nothing costs its sender only gas). The griefing challenger is the one attack that
moves ETH: its own bond, to the proposer it griefed.

One deployment per module; every test starts from the same snapshot (eth-tester's
`take_snapshot`/`revert_to_snapshot`, `tests.support.l1.reverted`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from l1_contracts import errors
from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings import UnlockedSender, append_batch_gas, transact
from l1_contracts.bindings.tx import default_decoder
from l1_contracts.reader import deployment_fees
from protocol.codec import encode_batch
from protocol.fraud import honest_leaves, last_step_proof, step_proof
from protocol.hashing import keccak
from protocol.keys import withdrawal_key
from protocol.signing import address_of, sign_tx
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.txs import Withdraw
from tests.l1.game import BOND, CHALLENGER_BOND, PROOF, RESPONSE, WINDOW, Game, leaves_for, make_game
from tests.support.l1 import deploy_raw, gas_cost, reverted

ETH = 10**18
USER_KEY = keccak(b"l1 attacks user")
USER = address_of(USER_KEY)
TO_EOA = 3 * ETH  # withdrawal 0, to an account
TO_HARNESS = 2 * ETH  # withdrawal 1, to the re-entrant contract


@dataclass
class World:
    game: Game
    harness: Contract
    recipient: UnlockedSender  # withdrawal 0's L1 recipient
    result: BatchResult  # batch 0, honest: the deposit and both withdrawals

    @property
    def harness_address(self) -> str:
        return str(self.harness.address)

    def accounts(self) -> list[str]:
        g = self.game
        people = [g.owner, g.proposer, g.challenger, g.other_proposer, g.watcher, self.recipient]
        return [g.rollup.address, g.bridge.address, self.harness_address, *(p.address for p in people)]

    def balances(self) -> dict[str, int]:
        return {a: self.game.balance(a) for a in self.accounts()}

    def finalize(self) -> None:
        self.game.advance(WINDOW)
        self.game.rollup.finalize(self.game.owner)
        assert self.game.rollup.is_finalized(0)

    def proof(self, withdrawal_id: int) -> bytes:
        return self.result.post_state.tree.prove(withdrawal_key(withdrawal_id)).encode()

    def as_harness(self, target: str, data: bytes, *, value: int = 0) -> TxReceipt:
        """Call `target` from the harness contract (sent by the owner)."""
        call = bytes.fromhex(self.harness.encode_abi("execute", args=[target, data])[2:])
        return transact(
            self.game.w3, self.game.owner, to=self.harness_address, data=call, value=value, gas=800_000
        )

    def arm(self, target: str, data: bytes) -> None:
        call = bytes.fromhex(self.harness.encode_abi("arm", args=[target, data])[2:])
        transact(self.game.w3, self.game.owner, to=self.harness_address, data=call, gas=300_000)

    def reentry(self) -> tuple[int, bool, errors.ContractRevert]:
        """How the harness's one re-entrant call ended: payments received, success, its revert."""
        h = self.harness.functions
        data = bytes(h.reentryResult().call())
        return int(h.payments().call()), bool(h.reentryOk().call()), default_decoder().decode(data)


def _build_world() -> World:
    game = make_game()
    harness_address = deploy_raw(game.w3, "ReentrantRecipientHarness", [], [], game.owner)
    harness = game.w3.eth.contract(
        address=Web3.to_checksum_address(harness_address), abi=load_artifact("ReentrantRecipientHarness").abi
    )
    recipient = game.sender(5)
    start = game.w3.eth.block_number
    game.bridge.deposit(game.sender(6), USER, 10 * ETH)
    [deposit] = game.bridge.deposits_since(start)
    ts = game.now()
    fees = deployment_fees(game.rollup)  # what the Rollup's prover charges: the honest batch must too
    to_eoa = Withdraw(0, bytes.fromhex(recipient.address[2:]), TO_EOA, max_fee_price=fees.price)
    to_harness = Withdraw(1, bytes.fromhex(harness_address[2:]), TO_HARNESS, max_fee_price=fees.price)
    txs = [sign_tx(game.domain, tx, USER_KEY).encoded for tx in (to_eoa, to_harness)]
    result = apply_batch(State(), [deposit], txs, BatchContext(game.domain, fees, ts))
    assert [r.reason for r in result.receipts] == [0, 0]
    game.post_result(result)
    return World(game, harness, recipient, result)


@pytest.fixture(scope="module")
def _world() -> World:
    return _build_world()


@pytest.fixture
def world(_world: World) -> Iterator[World]:
    with reverted(_world.game.tester):
        yield _world


@contextmanager
def no_eth_moved(world: World, *, gas_payers: tuple[UnlockedSender, ...] = ()) -> Iterator[list[TxReceipt]]:
    """Every balance of the game is the same after the block, but for the gas of the receipts the block
    appends to the yielded list (each paid by one of `gas_payers`)."""
    before = world.balances()
    receipts: list[TxReceipt] = []
    yield receipts
    spent: dict[str, int] = {p.address: 0 for p in gas_payers}
    for receipt in receipts:
        spent[str(receipt["from"])] += gas_cost(receipt)
    expected = {a: b - spent.get(a, 0) for a, b in before.items()}
    assert world.balances() == expected


# --- posting --------------------------------------------------------------------------------------


def test_a_non_proposer_cannot_post(world: World) -> None:
    g = world.game
    assert g.rollup.bond_of(g.watcher.address) == 0
    with no_eth_moved(world), pytest.raises(errors.NotBonded):
        g.post_trace(leaves_for(b"np", 1), sender=g.watcher)
    assert g.rollup.batch_count() == 1


def test_a_stale_root_cannot_be_posted(world: World) -> None:
    g, r = world.game, world.game.rollup
    g.post_trace(leaves_for(b"next", 1))  # batch 1 continues batch 0's root
    stale = r.prev_root_of(1)  # batch 0's post root, no longer the last
    data = encode_batch(g.now(), [b"\x01\x02"])
    with no_eth_moved(world), pytest.raises(errors.PrevRootMismatch):
        r.append_batch(
            g.other_proposer, data, stale, keccak(b"forged"), keccak(b"t"), 1, gas=append_batch_gas(data)
        )
    with no_eth_moved(world), pytest.raises(errors.PrevRootMismatch):  # nor the genesis root again
        r.append_batch(
            g.other_proposer,
            data,
            State().root,
            keccak(b"forged"),
            keccak(b"t"),
            1,
            gas=append_batch_gas(data),
        )
    assert r.batch_count() == 2


# --- withdrawals ----------------------------------------------------------------------------------


def test_a_withdrawal_cannot_be_claimed_before_its_batch_is_final(world: World) -> None:
    g = world.game
    with no_eth_moved(world), pytest.raises(errors.NotFinalized):
        g.bridge.claim_withdrawal(g.watcher, 0, 0, world.recipient.address, TO_EOA, world.proof(0))


def test_double_and_forged_withdrawal_claims(world: World) -> None:
    g, b = world.game, world.game.bridge
    world.finalize()
    relayer = g.watcher
    before = world.balances()
    receipt = b.claim_withdrawal(relayer, 0, 0, world.recipient.address, TO_EOA, world.proof(0))
    after = world.balances()
    assert after[b.address] == before[b.address] - TO_EOA
    assert after[world.recipient.address] == before[world.recipient.address] + TO_EOA
    assert after[relayer.address] == before[relayer.address] - gas_cost(receipt)
    with no_eth_moved(world):
        with pytest.raises(errors.AlreadyClaimed):
            b.claim_withdrawal(relayer, 0, 0, world.recipient.address, TO_EOA, world.proof(0))
        with pytest.raises(errors.InvalidProof):  # more than was withdrawn
            b.claim_withdrawal(relayer, 0, 1, world.harness_address, TO_HARNESS + 1, world.proof(1))
        with pytest.raises(errors.InvalidProof):  # withdrawal 1 paid to the attacker
            b.claim_withdrawal(relayer, 0, 1, relayer.address, TO_HARNESS, world.proof(1))
        with pytest.raises(errors.InvalidProof):  # withdrawal 1 with withdrawal 0's proof
            b.claim_withdrawal(relayer, 0, 1, world.harness_address, TO_HARNESS, world.proof(0))
        with pytest.raises(errors.InvalidProof):  # a withdrawal that was never made
            b.claim_withdrawal(relayer, 0, 2, relayer.address, ETH, world.proof(2))
    assert not b.is_claimed(1)


def test_a_reentrant_withdrawal_recipient_is_paid_once(world: World) -> None:
    g, b = world.game, world.game.bridge
    world.finalize()
    args = [0, 1, world.harness_address, TO_HARNESS, world.proof(1)]
    world.arm(b.address, bytes.fromhex(b.contract.encode_abi("claimWithdrawal", args=args)[2:]))
    before = world.balances()
    # the default gas limit is sized for a plain account
    b.claim_withdrawal(g.watcher, 0, 1, world.harness_address, TO_HARNESS, world.proof(1), gas=1_000_000)
    after = world.balances()
    assert after[b.address] == before[b.address] - TO_HARNESS
    assert after[world.harness_address] == before[world.harness_address] + TO_HARNESS
    payments, ok, revert = world.reentry()
    assert (payments, ok) == (1, False) and isinstance(revert, errors.AlreadyClaimed)


def test_a_reentrant_proposer_unbonds_once(world: World) -> None:
    r = world.game.rollup
    world.as_harness(r.address, bytes.fromhex(r.contract.encode_abi("bond", args=[])[2:]), value=BOND)
    unbond = bytes.fromhex(r.contract.encode_abi("unbond", args=[])[2:])
    world.arm(r.address, unbond)
    before = world.balances()
    world.as_harness(r.address, unbond)
    after = world.balances()
    assert after[r.address] == before[r.address] - BOND
    assert after[world.harness_address] == before[world.harness_address] + BOND
    payments, ok, revert = world.reentry()
    assert (payments, ok) == (1, False) and isinstance(revert, errors.NotBonded)


def test_a_reentrant_challenger_takes_its_payout_once(world: World) -> None:
    g, r = world.game, world.game.rollup
    world.as_harness(
        r.address, bytes.fromhex(r.contract.encode_abi("challenge", args=[0])[2:]), value=CHALLENGER_BOND
    )
    g.advance(RESPONSE)  # the proposer never reveals: the challenger wins
    r.settle_timeout(g.watcher, 0)
    payout = r.payout_of(world.harness_address)
    assert payout > CHALLENGER_BOND
    withdraw = bytes.fromhex(r.contract.encode_abi("withdrawPayout", args=[])[2:])
    world.arm(r.address, withdraw)
    before = world.balances()
    world.as_harness(r.address, withdraw)
    after = world.balances()
    assert after[r.address] == before[r.address] - payout
    assert after[world.harness_address] == before[world.harness_address] + payout
    payments, ok, revert = world.reentry()
    assert (payments, ok) == (1, False) and isinstance(revert, errors.NothingToWithdraw)


# --- the fraud game -------------------------------------------------------------------------------


def test_a_challenge_after_the_window_is_refused(world: World) -> None:
    g = world.game
    g.advance(WINDOW)
    with no_eth_moved(world), pytest.raises(errors.ChallengeWindowClosed):
        g.rollup.challenge(g.challenger, 0)


def test_a_proof_for_a_correct_step_is_refused(world: World) -> None:
    g, r = world.game, world.game.rollup
    honest = honest_leaves(world.result)
    r.challenge(g.challenger, 0)
    g.reveal(0, honest)
    with no_eth_moved(world):
        for index in range(len(honest)):
            with pytest.raises(errors.StepCorrect):
                r.prove_fraud(g.challenger, 0, step_proof(world.result, honest, index), gas=30_000_000)
        with pytest.raises(errors.LastStepCorrect):
            r.prove_bad_last_step(
                g.challenger, 0, last_step_proof(world.result, honest, world.result.post_root)
            )


def test_finalize_while_a_batch_is_challenged_does_nothing(world: World) -> None:
    g, r = world.game, world.game.rollup
    r.challenge(g.challenger, 0)
    g.advance(WINDOW)
    with no_eth_moved(world, gas_payers=(g.watcher,)) as receipts:
        receipts.append(r.finalize(g.watcher))
    assert r.finalized_count() == 0 and not r.is_finalized(0)


def test_a_griefing_challenger_loses_its_bond_and_delays_nothing_past_the_windows(world: World) -> None:
    g, r = world.game, world.game.rollup
    griefer, proposer = g.challenger, g.proposer
    posted_at = r.get_batch(0).l1_timestamp
    before = world.balances()
    receipts = [r.challenge(griefer, 0)]
    g.reveal(0, honest_leaves(world.result))
    g.advance(PROOF)
    r.settle_timeout(g.watcher, 0)  # the griefer has no proof: the proposer wins
    assert r.payout_of(proposer.address) == CHALLENGER_BOND and r.bond_of(proposer.address) == BOND
    g.advance(max(0, posted_at + WINDOW - g.now()))
    r.finalize(g.owner)
    assert r.is_finalized(0)  # at the end of its window, as if never challenged
    receipts.append(r.withdraw_payout(proposer))
    after = world.balances()
    assert after[griefer.address] == before[griefer.address] - CHALLENGER_BOND - gas_cost(receipts[0])
    assert after[r.address] == before[r.address]  # the bond came in and went out to the proposer
    assert after[g.bridge.address] == before[g.bridge.address]
