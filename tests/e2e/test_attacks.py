"""Attacks straight on L1 against a running stack (devnet, sequencer with its batcher, verifier; each
a process): a foreign bonded proposer that forges a root crediting itself the Bridge's balance, one
that appends a correct but useless batch at the next index, and the batches `appendBatch` refuses.
Each ends with the honest chain going on and no acknowledged tx lost.

The three share one stack (a module fixture), in this order: the refused batches change nothing, the
valid foreign batch is never challenged, and the forged root is the module's one dispute. The stack's
response window is short (RESPONSE_WINDOW_S): the forger never reveals, and the verifier's timeout
comes that much sooner; no honest batch is challenged here, so no honest reveal needs the default.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator

import pytest

from l1_contracts import errors
from l1_contracts.bindings.rollup import BatchStatus, append_batch_gas
from l1_contracts.bindings.tx import KeySender
from l1_contracts.devnet import dev_accounts
from l1_contracts.reader import L1Reader, deployment_fees
from protocol.codec import encode_batch
from protocol.derive import Derivation
from protocol.hashing import keccak, merkle_root
from protocol.keys import withdrawal_key
from protocol.records import Withdrawal
from protocol.state import State
from protocol.transition import BatchContext, apply_batch, step_hash
from tests.e2e.stack import Stack, fund, start_stack
from tests.e2e.workload import Run, Users, check_all_executed, transfers
from tests.support.servers import Roles, wait_until
from tests.support.wallets import ETH

pytestmark = pytest.mark.e2e
FORGER = dev_accounts()[6]


RESPONSE_WINDOW_S = 5


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("attacks")
    roles = Roles(directory)
    try:
        stack = start_stack(roles, directory, response_window_s=RESPONSE_WINDOW_S)
        yield stack
    except BaseException:
        print("\n".join(f"----- {p.name}\n{p.output()[-6000:]}" for p in roles.started))
        raise
    finally:
        roles.stop_all()
    for proc in roles.started:
        assert proc.popen.returncode in (0, -signal.SIGKILL), f"{proc.name} exited {proc.popen.returncode}"


def bond(stack: Stack, proposer: KeySender) -> None:
    """Bond `proposer`, unless an earlier test of the module did (they share the stack)."""
    if stack.rollup.bond_of(proposer.address) == 0:
        stack.rollup.bond(proposer)


def honest_state(stack: Stack) -> tuple[State, int]:
    """The honest L2 state after L1's live batches, derived from L1 alone, and their deposit count."""
    reader = L1Reader(stack.rollup, stack.bridge, from_block=stack.from_block, confirmations=0)
    reader.poll()
    chain = Derivation(stack.domain, deployment_fees(stack.rollup))  # what the Rollup charges
    chain.extend(reader.live_batches, reader.deposits)
    deposits = reader.live_batches[-1].deposit_end if reader.live_batches else 0
    return chain.state, deposits


def append_racing_the_sequencer(
    stack: Stack, sender: KeySender, make: Callable[[State], tuple[bytes, bytes, bytes]]
) -> tuple[int, float]:
    """Append `make(honest state)` = (data, post root, trace root) at the next index, trying again
    while the sequencer's own batches land first; returns the index and when it was sent."""
    for _ in range(20):
        state, deposits = honest_state(stack)
        data, post, trace = make(state)
        index, sent_at = stack.rollup.batch_count(), time.monotonic()
        try:
            stack.rollup.append_batch(
                sender, data, state.root, post, trace, deposits, gas=append_batch_gas(data)
            )
            return index, sent_at
        except (errors.PrevRootMismatch, errors.DepositCountDecreased):
            time.sleep(0.2)
    raise AssertionError("the sequencer's batches kept landing first")


def test_batches_appendbatch_refuses(stack: Stack) -> None:
    users = Users.make(300)
    fund(stack, users.all[:1], ETH)
    attacker = KeySender.from_hex(FORGER.private_key)
    bond(stack, attacker)
    r = stack.rollup
    ts = int(stack.w3.eth.get_block("latest")["timestamp"])
    data = encode_batch(ts, [b"\x00"])
    prev, queue = r.last_root(), stack.bridge.deposit_count()
    consumed = r.get_batch(r.batch_count() - 1).deposit_count if r.batch_count() else 0
    with pytest.raises(errors.DepositCountTooHigh):  # invented deposits
        r.append_batch(
            attacker, data, prev, keccak(b"x"), keccak(b"t"), queue + 1, gas=append_batch_gas(data)
        )
    if consumed:
        with pytest.raises(errors.DepositCountDecreased):  # deposits consumed again / skipped back
            r.append_batch(
                attacker, data, prev, keccak(b"x"), keccak(b"t"), consumed - 1, gas=append_batch_gas(data)
            )
    for bad in (data[:-1], data + b"\x00", b"\x07" + data[1:]):
        with pytest.raises((errors.BatchTruncated, errors.BatchTrailingBytes, errors.BatchVersion)):
            r.append_batch(
                attacker, bad, prev, keccak(b"x"), keccak(b"t"), consumed, gas=append_batch_gas(bad)
            )
    assert r.last_root() == prev


def test_a_foreign_valid_batch_does_not_halt_the_sequencer(stack: Stack) -> None:
    posted = stack.rollup.batch_count()  # by the earlier tests of the module
    users = Users.make(200)
    fund(stack, users.all, 10 * ETH)
    run = Run(stack.l2, 1.0)
    transfers(run, users)
    wait_until("the sequencer's batches on L1", lambda: stack.rollup.batch_count() > posted, timeout=60)
    other = KeySender.from_hex(FORGER.private_key)
    bond(stack, other)

    # a correct but useless batch: one undecodable tx (a failed step), honest roots
    def useless(state: State) -> tuple[bytes, bytes, bytes]:
        ts = int(stack.w3.eth.get_block("latest")["timestamp"])
        ctx = BatchContext(stack.domain, deployment_fees(stack.rollup), ts)
        result = apply_batch(state, [], [b"\x00"], ctx)
        assert result.post_root == state.root
        return encode_batch(ts, [b"\x00"]), result.post_root, result.trace_root

    index, _ = append_racing_the_sequencer(stack, other, useless)
    transfers(run, users, rounds=2)
    wait_until(
        "the sequencer posting on top of it", lambda: stack.rollup.batch_count() > index + 1, timeout=120
    )
    assert stack.rollup.get_batch(index).proposer == other.address
    assert stack.rollup.get_batch(index).status != BatchStatus.DELETED
    check_all_executed(run)
    assert stack.verifier("/v1/disputes")["disputes"] == []  # a valid batch is never challenged
    status = stack.verifier("/v1/status")
    assert status["disagreements"] == 0 and status["latest_checked"]["index"] >= index


def test_a_forged_withdrawal_root_is_challenged_and_slashed(stack: Stack) -> None:
    posted = stack.rollup.batch_count()  # by the earlier tests of the module
    users = Users.make()
    fund(stack, users.all, 10 * ETH)
    run = Run(stack.l2, 1.0)
    transfers(run, users)
    wait_until("the sequencer's batches on L1", lambda: stack.rollup.batch_count() > posted, timeout=60)
    forger = KeySender.from_hex(FORGER.private_key)
    bond(stack, forger)
    bridge_balance = stack.bridge.balance()
    assert bridge_balance >= 40 * ETH

    # the forged root: the honest state plus a withdrawal of the Bridge's whole balance to the forger
    def forge(state: State) -> tuple[bytes, bytes, bytes]:
        loot = Withdrawal(bytes.fromhex(FORGER.address[2:]), bridge_balance)
        forged = state.tree.set_many([(withdrawal_key(999), loot.encode())]).root
        data = encode_batch(int(stack.w3.eth.get_block("latest")["timestamp"]), [b"\x00"])
        return data, forged, merkle_root([step_hash(forged, 1, None)])

    index, sent_at = append_racing_the_sequencer(stack, forger, forge)
    transfers(run, users)  # users go on meanwhile; their txs must survive the rollback

    wait_until(
        "the forger slashed",
        lambda: stack.rollup.bond_of(forger.address) == 0,
        timeout=240,
    )
    slashed_after = time.monotonic() - sent_at
    with pytest.raises(errors.L1Error):
        stack.bridge.claim_withdrawal(forger, index, 999, FORGER.address, bridge_balance, b"")
    assert stack.bridge.balance() >= bridge_balance  # nothing left the Bridge
    wait_until(
        "the verifier's dispute won",
        lambda: [d["outcome"] for d in stack.verifier("/v1/disputes")["disputes"]] == ["won"],
        timeout=60,
    )
    (dispute,) = stack.verifier("/v1/disputes")["disputes"]
    assert dispute["batch_index"] == index and dispute["resolution"] == "reveal_timeout", dispute
    gas = {k: v["gas_used"] for k, v in dispute["txs"].items() if v is not None}
    print(f"\nforged root: slashed {slashed_after:.0f} s after its appendBatch; dispute txs and gas: {gas}")
    # the honest chain goes on past the deleted index, and every acknowledged tx is on it
    transfers(run, users)
    wait_until(
        "the honest batches on L1 past the forged index",
        lambda: (
            stack.rollup.batch_count() > index and stack.rollup.get_batch(index).proposer != forger.address
        ),
        timeout=120,
    )
    check_all_executed(run)
    wait_until("the sequencer caught up", stack.l2.ready, timeout=60)
