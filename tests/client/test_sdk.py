"""`Client` and `AsyncClient` against a running stack (the roles as processes): every method, each
scenario run by both flavours at once (tests/client/flavours.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from client import miner
from client import txs as build
from client.errors import NotFound, TxRejected
from client.sdk import Client
from protocol import keys, params
from protocol.hashing import keccak
from protocol.models import Arch, validate_spec
from protocol.paper import PAPER_INITIAL, PAPER_LEARNING_RATE, PAPER_X, PAPER_Y
from protocol.signing import to_checksum_address
from protocol.tensors import IntTensor
from protocol.txs import Transfer
from tests.client.conftest import FUNDED, ClientStack
from tests.client.flavours import both, closing, open_client
from tests.support.wallets import ETH

pytestmark = pytest.mark.e2e

S = params.FIXED_SCALE
PAPER_WEIGHTS_AFTER_ONE_EPOCH = [100262000, 3420000]
BATCH_AGE_S = 1.0  # start_stack's default


def test_reads_transfers_waits_and_errors(client_stack: ClientStack) -> None:
    stack = client_stack

    async def scenario(flavour: str) -> None:
        async def body(c: Any) -> None:
            info = await c.info()
            assert info.domain == stack.stack.domain.as_dict() and info.limits["max_tx_bytes"] > 0
            assert await c.domain() == stack.stack.domain
            me = await c.account()
            assert me.address == c.address and me.balance >= FUNDED - ETH
            assert await c.balance() == me.balance and await c.nonce() == me.pending_nonce
            rival = stack.user(f"rival_{flavour}").address
            rival_before = await c.balance(rival)

            # three txs back to back: consecutive local nonces, no account read between them
            sent = [await c.transfer(rival, 1_000 + i) for i in range(3)]
            assert [s.nonce for s in sent] == [me.pending_nonce + i for i in range(3)]
            receipts = [await c.wait_for_receipt(s.hash) for s in sent]
            assert all(r.success and r.reason == "OK" for r in receipts)
            assert await c.balance(rival) == rival_before + 3_003
            got = await c.tx(sent[-1].hash, wait=5)
            assert got.status == "executed" and got.receipt == receipts[-1] and got.nonce == sent[-1].nonce

            posted = await c.wait_for_batch(sent[-1].hash)
            assert posted.posted and posted.id == receipts[-1].batch and posted.l1 is not None
            with_data = await c.batch(posted.id, data=True)
            assert with_data.data is not None and with_data.post_root == posted.post_root
            page = await c.batches(after=-1, limit=100)
            assert posted.id in [b.id for b in page.batches]
            assert [b.id for b in page.batches] == sorted(b.id for b in page.batches)
            only_posted = await c.batches(status=["posted", "final"])
            assert {b.status for b in only_posted.batches} <= {"posted", "final"}
            roots = await c.roots()
            assert roots.current.root.startswith("0x") and roots.finalized.root.startswith("0x")
            block = await c.block(receipts[-1].block, wait=1)
            assert sent[-1].hash in block.txs and block.batch == posted.id
            assert (await c.latest_block()).number >= block.number
            trace = await c.steps(posted.id)
            assert (
                trace.total == posted.step_count == len(trace.steps) and trace.trace_root == posted.trace_root
            )
            key = keys.account_key(c.wallet.address)
            assert (await c.state_proof(key)).terminal == "leaf"
            assert (await c.state_proof(key, posted.id)).root == posted.post_root

            # typed errors carrying the server's reason
            with pytest.raises(NotFound) as missing:
                await c.tx("0x" + "00" * 32)
            assert missing.value.code == "not_found" and missing.value.status == 404
            with pytest.raises(TxRejected) as poor:
                await c.transfer(rival, 10**30)
            assert poor.value.code == "insufficient_balance" and poor.value.status == 400
            # the refused tx's nonce was not used: the next one is signed with the server's
            again = await c.transfer(rival, 1)
            assert again.nonce == sent[-1].nonce + 1
            await c.wait_for_receipt(again.hash)

            # another client with the same key moves the nonce on: one resync, then accepted
            twin = Client(stack.url, stack.key(f"reader_{flavour}"))
            with twin:
                twin.wait_for_receipt(twin.transfer(rival, 1).hash)
            after_twin = await c.transfer(rival, 2)  # not 1: the very tx the twin sent is `already_known`
            assert after_twin.nonce == again.nonce + 2
            await c.wait_for_receipt(after_twin.hash)

            # a list, all or nothing: consecutive nonces; one refusal and none is stored
            listed = await c.submit_many([build.transfer(rival, 5), build.transfer(rival, 6)])
            assert [t.nonce for t in listed] == [after_twin.nonce + 1, after_twin.nonce + 2]
            for t in listed:
                await c.wait_for_receipt(t.hash)
            with pytest.raises(TxRejected) as one_bad:
                await c.submit_many([build.transfer(rival, 7), build.transfer(rival, 10**30)])
            assert one_bad.value.code == "insufficient_balance"
            assert one_bad.value.details["items"][0]["index"] == 1

            # a read-only client reads but does not sign
            reader = open_client(stack, flavour, None)
            try:
                assert (await reader.account(c.address)).pending_nonce == listed[-1].nonce + 1
            finally:
                await reader.close()

        await closing(open_client(stack, flavour, "reader"), body)

    both(scenario)


def test_a_competition_every_step(client_stack: ClientStack) -> None:
    """A LINREG(d=2) round on y = x0 + x1: miner_a exact, miner_b off by S/2; miner_a wins the reward,
    and each leaderboard score is the one `client.miner.local_score` computes."""
    stack = client_stack
    spec = validate_spec(Arch.LINREG, 2, 0, 0)
    rows = [[i * S, (i % 3) * S] for i in range(150)]
    features, labels = IntTensor.matrix(rows), IntTensor.vector([r[0] + r[1] for r in rows])
    weights = {"miner_a": [S, S, 0], "miner_b": [S, S, S // 2]}
    reward = 2 * ETH
    now = int(time.time())
    commit_deadline, reveal_deadline = now + 10, now + 22

    async def scenario(flavour: str) -> dict[str, int]:
        submitter = open_client(stack, flavour, "submitter")
        miners = {name: open_client(stack, flavour, name) for name in weights}
        trainer = open_client(stack, flavour, "trainer")
        try:
            salt = keccak(f"test set {flavour}".encode())
            test_commitment = miner.test_set_commitment(spec, features, labels, salt)
            created = await submitter.create_task(
                spec, reward, commit_deadline, reveal_deadline, test_commitment, keccak(b"data")
            )
            task_id = (await submitter.wait_for_receipt(created.hash)).created_id
            assert task_id is not None
            task = await submitter.task(task_id)
            assert (task.phase, task.reward, task.test_revealed) == ("commit", reward, False)
            salts = {name: miner.new_salt() for name in weights}
            for name, c in miners.items():
                commitment = miner.commitment(task_id, c.address, weights[name], salts[name])
                await c.wait_for_receipt((await c.commit_model(task_id, commitment)).hash)
            assert (await submitter.task(task_id)).commit_count == 2

            await _sleep_until(commit_deadline)
            sent = await submitter.reveal_test_set(task_id, salt, features, labels)
            await submitter.wait_for_receipt(sent[-1].hash)
            for name, c in miners.items():
                await c.wait_for_receipt((await c.reveal_model(task_id, salts[name], weights[name])).hash)
            # too late to commit now: the failure reason comes back typed
            with pytest.raises(TxRejected) as late:
                await trainer.commit_model(task_id, keccak(b"late"))
            assert late.value.code == "wrong_phase"

            await _sleep_until(reveal_deadline)
            winner_before = await miners["miner_a"].balance()
            await trainer.wait_for_receipt((await trainer.finalize_task(task_id)).hash)
            task = await trainer.task(task_id)
            assert task.finalized and task.phase == "finalized"
            assert task.best is not None and task.best.miner == miners["miner_a"].address
            assert await miners["miner_a"].balance() == winner_before + reward
            return {s.miner: s.score for s in task.leaderboard if s.score is not None} | {"task": task_id}
        finally:
            for c in (submitter, *miners.values(), trainer):
                await c.close()

    results = both(scenario)
    for flavour, scores in results.items():
        for name, w in weights.items():
            address = stack.user(f"{name}_{flavour}")
            expected = miner.local_score(spec, w, features, labels)
            assert scores[to_checksum_address(address.address)] == expected, (flavour, name)
        assert scores[to_checksum_address(stack.user(f"miner_a_{flavour}").address)] == 0  # exact


def test_a_shared_model_every_step(client_stack: ClientStack) -> None:
    """The paper's regression: create, add its nine points, train one epoch, to the paper's weights."""
    stack = client_stack

    async def scenario(flavour: str) -> None:
        async def body(c: Any) -> None:
            created = await c.create_model(1, PAPER_LEARNING_RATE, list(PAPER_INITIAL))
            model_id = (await c.wait_for_receipt(created.hash)).created_id
            await c.wait_for_receipt((await c.add_data(model_id, [[x] for x in PAPER_X], PAPER_Y)).hash)
            await c.wait_for_receipt((await c.train(model_id, 1)).hash)
            got = await c.model(model_id, points=True)
            assert got.weights == PAPER_WEIGHTS_AFTER_ONE_EPOCH and got.epochs_trained == 1
            assert got.points == [[x, y] for x, y in zip(PAPER_X, PAPER_Y, strict=True)]
            assert (await c.model(model_id)).points is None
            assert miner.predict_shared(got, [[0], [100]]) == [10, 44]  # 10.0262 + 0.342 x, truncated
            # `submit` takes any tx type as a function of the nonce and the max fee price (the SDK
            # signs the deployment's, from GET /v1/fees); the estimate is what the receipt says it paid
            make = lambda n, p: Transfer(n, c.wallet.address, 0, p)  # noqa: E731
            estimate = await c.estimate_fee(make)
            assert estimate.price == (await c.fee_schedule()).price > 0 and estimate.steps == 1
            sent = await c.submit(make)
            receipt = await c.wait_for_receipt(sent.hash)
            assert receipt.success and receipt.fee == estimate.fee > 0

        await closing(open_client(stack, flavour, "trainer"), body)

    both(scenario)


async def _sleep_until(deadline: int) -> None:
    """Until txs accepted now execute at a batch timestamp past `deadline`."""
    await asyncio.sleep(max(0.0, deadline + 1 + BATCH_AGE_S - time.time()))
