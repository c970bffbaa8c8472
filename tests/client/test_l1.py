"""The L1 side against a running stack: a deposit credited on L2, a withdrawal claimed on L1 once its
batch is final, sync and async at once (each flavour with its own L1 account, so their L1 nonces
never interleave)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from client import l1 as l1_side
from client.errors import L1Error
from client.l1 import L1Account
from client.sdk import AsyncClient, Client
from l1_contracts.devnet import dev_accounts
from protocol.signing import Domain, to_checksum_address
from tests.client.conftest import ClientStack
from tests.client.flavours import both
from tests.support.wallets import ETH, Wallet

pytestmark = pytest.mark.e2e

L1_KEYS = {"sync": dev_accounts()[8].private_key, "async": dev_accounts()[9].private_key}


def l1_url(stack: ClientStack) -> str:
    return stack.stack.sequencer_env["MLROLLUP_L1_RPC_URL"]


def test_deposit_withdraw_wait_for_final_and_claim(client_stack: ClientStack) -> None:
    stack = client_stack

    async def scenario(flavour: str) -> dict[str, Any]:
        key = stack.key(f"withdrawer_{flavour}")
        recipient = Wallet.from_seed(900 if flavour == "sync" else 901).address  # a fresh L1 account
        l1 = L1Account(l1_url(stack), L1_KEYS[flavour], stack.stack.domain)
        assert l1.bridge.address == stack.stack.bridge.address
        if flavour == "sync":
            with Client(stack.url, key) as c:
                credited = await _in_thread(l1_side.deposit_and_wait, c, l1, ETH)
                sent = await _in_thread(c.withdraw, 2 * ETH, recipient)
                withdrawal_id = (await _in_thread(c.wait_for_receipt, sent.hash)).created_id
                final = await _in_thread(c.wait_for_final, sent.hash)
                proof, claimed = await _in_thread(l1_side.claim_when_final, c, l1, withdrawal_id)
        else:
            async with AsyncClient(stack.url, key) as ac:
                credited = await l1_side.deposit_and_wait_async(ac, l1, ETH)
                sent = await ac.withdraw(2 * ETH, recipient)
                withdrawal_id = (await ac.wait_for_receipt(sent.hash)).created_id
                assert withdrawal_id is not None
                final = await ac.wait_for_final(sent.hash)
                proof, claimed = await l1_side.claim_when_final_async(ac, l1, withdrawal_id)
        assert credited.balance >= ETH
        assert final.status == "final"
        assert (proof.id, proof.amount, proof.recipient) == (
            withdrawal_id,
            2 * ETH,
            to_checksum_address(recipient),
        )
        assert proof.batch >= final.id and claimed.gas_used > 0
        assert l1.is_claimed(withdrawal_id)
        assert stack.stack.w3.eth.get_balance(to_checksum_address(recipient)) == 2 * ETH  # type: ignore[arg-type]
        with pytest.raises(L1Error) as twice:
            l1.claim(proof)
        assert twice.value.code == "AlreadyClaimed"
        return {"id": withdrawal_id}

    got = both(scenario)
    assert got["sync"]["id"] != got["async"]["id"]


def test_an_l1_of_another_chain_is_refused(client_stack: ClientStack) -> None:
    other = Domain(1, client_stack.stack.domain.verifying_contract)
    with pytest.raises(L1Error) as caught:
        L1Account(l1_url(client_stack), L1_KEYS["sync"], other)
    assert caught.value.code == "wrong_chain"


async def _in_thread(fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)
