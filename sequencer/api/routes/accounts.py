"""Accounts: balance and nonce after the last block, and after every accepted tx."""

from __future__ import annotations

from fastapi import APIRouter

from sequencer.api.common import checksum, path_address
from sequencer.api.deps import SequencerDep
from sequencer.api.schemas import AccountOut, ErrorBody

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get("/{address}", summary="An account's balance and nonces", responses={400: {"model": ErrorBody}})
async def get_account(address: str, node: SequencerDep) -> AccountOut:
    who = path_address(address)
    with node.lock:
        head, pending, height = node.head, node.mempool.state, node.height
    account, future = head.account(who), pending.account(who)
    return AccountOut(
        address=checksum(who),
        balance=str(account.balance),
        nonce=account.nonce,
        pending_balance=str(future.balance),
        pending_nonce=future.nonce,
        block=height,
    )
