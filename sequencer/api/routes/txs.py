"""Submit txs (one, or a list all or nothing) and read a tx with its receipt."""

from __future__ import annotations

import time
from typing import Annotated, Literal, cast

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from protocol.params import EIP712_NAME, EIP712_VERSION
from protocol.receipts import Reason
from protocol.signing import Domain, to_checksum_address
from protocol.txs import TX_CLASSES, TxType
from sequencer.api.common import HashParam, checksum, hx, path_hash
from sequencer.api.deps import SequencerDep, SettingsDep
from sequencer.api.responses import SUBMIT_CODES, route_errors
from sequencer.api.schemas import (
    ReceiptOut,
    TxAccepted,
    TxListAccepted,
    TxListSubmission,
    TxOut,
    TxSubmission,
)
from sequencer.api.txjson import parse_address, parse_hex, tx_from_json
from sequencer.core.errors import ApiError, api_error
from sequencer.db.models import TxRow, TxStatus
from sequencer.mempool import PendingTx, Submission
from sequencer.node import Sequencer

router = APIRouter(prefix="/v1/txs", tags=["txs"])

_SUBMIT_ERRORS = route_errors(*SUBMIT_CODES)


def _type_name(tx_type: int) -> str:
    """The tx type's name; `Undecodable` for a byte no type has (a foreign batch can carry any)."""
    try:
        return TX_CLASSES[TxType(tx_type)].__name__
    except ValueError:
        return "Undecodable"


def to_submission(body: TxSubmission, domain: Domain) -> Submission:
    """The canonical bytes of a submitted tx and the sender it claims; `ApiError` when malformed."""
    if body.type is not None and body.primary_type is not None and body.type != body.primary_type:
        raise api_error("invalid_request", "`type` and `primaryType` name different tx types: give one")
    type_name = body.type if body.type is not None else body.primary_type
    typed = (type_name, body.message, body.signature)
    if body.raw is not None:
        if any(v is not None for v in typed):
            raise api_error(
                "invalid_request", "give either `raw` or `type` + `message` + `signature`, not both"
            )
        raw = parse_hex(body.raw, "raw")
    elif None in typed:
        raise api_error("invalid_request", "give `raw`, or all of `type`, `message` and `signature`")
    else:
        assert type_name is not None and body.message is not None and body.signature is not None
        raw = tx_from_json(type_name, body.message, body.signature)
    if body.domain is not None:
        d = body.domain
        if d.chainId != domain.chain_id:
            raise api_error(
                "wrong_chain",
                f"the tx is signed for chain id {d.chainId}; this rollup's L1 chain id is {domain.chain_id}",
            )
        contract = parse_address(d.verifyingContract, "domain.verifyingContract")
        if (
            contract != domain.verifying_contract
            or d.name not in (None, EIP712_NAME)
            or d.version
            not in (
                None,
                EIP712_VERSION,
            )
        ):
            raise api_error(
                "wrong_domain",
                f"the tx is signed for another domain; this rollup's is {EIP712_NAME} v{EIP712_VERSION}, "
                f"Rollup {to_checksum_address(domain.verifying_contract)}",
            )
    sender = None if body.sender is None else parse_address(body.sender, "from")
    return Submission(raw, sender)


def _accepted(p: PendingTx) -> TxAccepted:
    return TxAccepted(hash=hx(p.hash), type=_type_name(p.tx_type), sender=checksum(p.sender), nonce=p.nonce)


@router.post(
    "",
    status_code=202,
    summary="Submit one signed tx",
    responses=_SUBMIT_ERRORS,
    description="Decodes the tx, recovers its signer for this deployment's EIP-712 domain and dry-runs "
    "it after every pending tx. A tx that would fail is refused (4xx naming the reason) and nothing "
    "is stored; otherwise it is stored durably before the 202 answer. Poll `GET /v1/txs/{hash}` "
    "(with `?wait=`) for the receipt.",
)
async def submit_tx(body: TxSubmission, node: SequencerDep) -> TxAccepted:
    (accepted,) = await node.submit_async([to_submission(body, node.domain)])
    return _accepted(accepted)


@router.post(
    "/batch",
    status_code=202,
    summary="Submit a list of signed txs, all or nothing",
    responses=_SUBMIT_ERRORS,
    description="The txs are checked in order, each after the ones before it (so one account may "
    "send nonces n, n+1, …). **All or nothing**: if any tx would be refused, the answer is the "
    "first refusal's status and code, with `items` listing every refused tx by index, and none "
    "is stored. Otherwise all are stored durably, in order, before the 202 answer.",
)
async def submit_txs(body: TxListSubmission, node: SequencerDep, settings: SettingsDep) -> TxListAccepted:
    if not body.txs:
        raise api_error("invalid_request", "txs: the list is empty")
    if len(body.txs) > settings.max_list_txs:
        raise api_error(
            "too_many_txs",
            f"{len(body.txs)} txs exceed max_list_txs = {settings.max_list_txs}: split the list",
        )
    subs = []
    for i, item in enumerate(body.txs):
        try:
            subs.append(to_submission(item, node.domain))
        except ApiError as exc:
            item_error = {"index": i, "code": exc.code, "message": exc.message}
            raise ApiError(
                exc.status,
                exc.code,
                f"tx {i} of the list: {exc.message} (a list is all or nothing: none was accepted)",
                items=[item_error],
            ) from None
    return TxListAccepted(txs=[_accepted(p) for p in await node.submit_async(subs, listed=True)])


def _tx_out(node: Sequencer, row: TxRow) -> TxOut:
    receipt = None
    if row.status != TxStatus.PENDING:
        assert row.block_number is not None and row.block_index is not None and row.reason is not None
        assert row.first_step is not None and row.last_step is not None
        block = node.store.block(row.block_number)
        assert block is not None
        receipt = ReceiptOut(
            success=row.reason == Reason.OK,
            reason=Reason(row.reason).name,
            reason_code=row.reason,
            detail=row.detail or "",
            created_id=row.created_id,
            fee=row.fee or "0",
            block=row.block_number,
            index=row.block_index,
            first_step=row.first_step,
            last_step=row.last_step,
            batch=block.batch_id,
        )
    status = cast(Literal["pending", "executed", "failed"], row.status)
    return TxOut(
        hash=hx(row.hash),
        status=status,
        type=_type_name(row.tx_type),
        sender=None if row.sender is None else checksum(row.sender),
        nonce=row.nonce,
        raw=hx(row.raw),
        received_at=row.received_at,
        receipt=receipt,
    )


@router.get(
    "/{tx_hash}",
    summary="A tx and, once executed, its receipt",
    responses=route_errors("invalid_hex", "not_found"),
)
async def get_tx(
    tx_hash: HashParam,
    node: SequencerDep,
    wait: Annotated[float, Query(ge=0, le=30, description="seconds to wait for the receipt")] = 0,
) -> TxOut:
    if tx_hash == "batch":  # `GET /v1/txs/batch` is the list route's path, which only takes POST
        raise HTTPException(405, headers={"Allow": "POST"})
    digest = path_hash(tx_hash)
    height = node.height  # read before the row: the block that executes it comes after
    row = await run_in_threadpool(node.store.tx, digest)  # a short read; the wait holds no thread
    if row is None:
        raise api_error("not_found", f"no tx {tx_hash}: never accepted (or refused)")
    deadline = time.monotonic() + wait
    while row.status == TxStatus.PENDING and (remaining := deadline - time.monotonic()) > 0:
        if not await node.wait_block(height, remaining):
            break  # the time is up, or max_long_polls wait already: answer with what there is
        height = node.height
        fresh = await run_in_threadpool(node.store.tx, digest)
        assert fresh is not None
        row = fresh
    return await run_in_threadpool(_tx_out, node, row)
