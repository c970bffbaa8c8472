"""Accounts: balance and nonce after the last block, and after every accepted tx."""

from __future__ import annotations

from fastapi import APIRouter

from sequencer.api.common import AddressParam, checksum, path_address
from sequencer.api.deps import SequencerDep
from sequencer.api.responses import route_errors
from sequencer.api.schemas import AccountOut

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get(
    "/{address}",
    summary="An account's balance and nonces",
    responses=route_errors("invalid_hex", "bad_checksum"),
)
async def get_account(address: AddressParam, node: SequencerDep) -> AccountOut:
    who = path_address(address)
    view = node.view  # published whole: no lock, so a long admission never delays a read
    head, pending, height = view.head, view.pending, view.height
    account, future = head.account(who), pending.account(who)
    return AccountOut(
        address=checksum(who),
        balance=str(account.balance),
        nonce=account.nonce,
        pending_balance=str(future.balance),
        pending_nonce=future.nonce,
        block=height,
    )
