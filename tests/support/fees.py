"""The fee schedule of the tests' deployments: the deploy default price, and a recipient of its own
so that a test sees every fee arrive (`FEE_RECIPIENT` is nobody's key)."""

from __future__ import annotations

from l1_contracts.deploy import DEFAULT_FEE_PRICE
from protocol.fees import FeeSchedule
from protocol.signing import to_checksum_address

FEE_PRICE = DEFAULT_FEE_PRICE
FEE_RECIPIENT = bytes.fromhex("fee0" * 10)
FEES = FeeSchedule(FEE_PRICE, FEE_RECIPIENT)
FEE_RECIPIENT_ADDRESS = to_checksum_address(FEE_RECIPIENT)
