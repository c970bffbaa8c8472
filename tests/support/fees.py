"""The fee schedule of the tests' deployments: the deploy default price, and a recipient of its own
so that a test sees every fee arrive (`FEE_RECIPIENT` is nobody's key)."""

from __future__ import annotations

from l1_contracts.deploy import DEFAULT_FEE_PRICE
from protocol.codec import decode_tx
from protocol.fees import FeeSchedule, fee_units
from protocol.signing import to_checksum_address
from protocol.state import State, TypedReads

FEE_PRICE = DEFAULT_FEE_PRICE
FEE_RECIPIENT = bytes.fromhex("fee0" * 10)
FEES = FeeSchedule(FEE_PRICE, FEE_RECIPIENT)
FEE_RECIPIENT_ADDRESS = to_checksum_address(FEE_RECIPIENT)


def fee_of(raw: bytes, reads: TypedReads | None = None, fees: FeeSchedule = FEES) -> int:
    """What the signed tx `raw` pays under `fees` (`protocol.fees.fee_units`; a job tx's units read
    the state `reads`, which other txs do not need)."""
    return fee_units(decode_tx(raw).tx, len(raw), reads if reads is not None else State()).total * fees.price
