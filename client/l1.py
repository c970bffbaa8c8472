"""The L1 side of a user: deposit on the Bridge and wait until L2 credits it; claim a withdrawal on
L1 once a final batch holds it. Through `l1_contracts.bindings` over web3.py with the committed
ABIs and a local key (`KeySender`): any JSON-RPC endpoint, no Node.

The Bridge is found from the Rollup the signing domain names (`/v1/info`), so a user needs only the
sequencer's URL, an L1 RPC URL and a key. web3 is blocking: the async helpers run it in a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from web3 import HTTPProvider, Web3
from web3.types import TxReceipt

from client import models
from client.errors import L1Error
from client.sdk import AsyncClient, Client
from client.txs import address_bytes
from client.wallet import Wallet
from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import KeySender
from l1_contracts.errors import ContractRevert
from l1_contracts.errors import L1Error as BindingError
from protocol.signing import Domain, to_checksum_address

T = TypeVar("T")
DEFAULT_L1_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class L1Receipt:
    """An L1 transaction the SDK sent: its hash, block and gas."""

    tx_hash: str
    block: int
    gas_used: int


def _l1(action: str, call: Callable[[], T]) -> T:
    """`call()`, with the bindings' and web3's errors raised as `L1Error` (code: the revert's name)."""
    try:
        return call()
    except ContractRevert as exc:
        raise L1Error(exc.error_name or "reverted", f"{action}: {exc}") from exc
    except (BindingError, ValueError, OSError) as exc:  # web3's RPC errors are ValueErrors
        raise L1Error("l1_failed", f"{action}: {type(exc).__name__}: {exc}") from exc


class L1Account:
    """An L1 account (`key`) on the chain at `rpc_url`, for the rollup of `domain`."""

    def __init__(
        self, rpc_url: str, key: str | bytes, domain: Domain, *, timeout: float = DEFAULT_L1_TIMEOUT_S
    ):
        self.wallet = Wallet.from_key(key)
        self.w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self.sender = KeySender(self.wallet.key)
        rollup_address = to_checksum_address(domain.verifying_contract)
        self.rollup = Rollup(self.w3, rollup_address, timeout=timeout)
        chain_id = _l1("read the chain id", lambda: self.w3.eth.chain_id)
        if chain_id != domain.chain_id:
            raise L1Error(
                "wrong_chain", f"{rpc_url} is chain {chain_id}; the rollup lives on chain {domain.chain_id}"
            )
        bridge_address = _l1("read the Rollup's bridge", self.rollup.bridge_address)
        self.bridge = Bridge(self.w3, bridge_address, timeout=timeout)

    @property
    def address(self) -> str:
        return self.wallet.checksum

    def balance(self) -> int:
        """This account's ETH on L1 (wei)."""
        return int(
            _l1(
                "read the balance",
                lambda: self.w3.eth.get_balance(Web3.to_checksum_address(self.wallet.checksum)),
            )
        )

    def deposit(self, amount: int, l2_recipient: str | bytes | None = None) -> L1Receipt:
        """Deposit `amount` wei to `l2_recipient` on L2 (this account's own address by default)."""
        recipient = address_bytes(l2_recipient) if l2_recipient is not None else self.wallet.address
        receipt = _l1("deposit", lambda: self.bridge.deposit(self.sender, recipient, amount))
        return _receipt(receipt)

    def claim(self, proof: models.WithdrawalProof) -> L1Receipt:
        """Claim a withdrawal on the Bridge with its proof against final batch `proof.batch` (anyone
        may send it; the recipient is paid)."""
        raw = bytes.fromhex(proof.proof.removeprefix("0x"))
        receipt = _l1(
            f"claim withdrawal {proof.id}",
            lambda: self.bridge.claim_withdrawal(
                self.sender, proof.batch, proof.id, proof.recipient, proof.amount, raw
            ),
        )
        return _receipt(receipt)

    def is_claimed(self, withdrawal_id: int) -> bool:
        return bool(_l1("read the claim", lambda: self.bridge.is_claimed(withdrawal_id)))


def _receipt(receipt: TxReceipt) -> L1Receipt:
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    return L1Receipt(tx_hash, int(receipt["blockNumber"]), int(receipt["gasUsed"]))


def deposit_and_wait(
    client: Client, l1: L1Account, amount: int, *, timeout: float = DEFAULT_L1_TIMEOUT_S
) -> models.Account:
    """Deposit `amount` from `l1` to the client's own L2 address and wait until L2 credits it."""
    before = client.balance()
    l1.deposit(amount, client.wallet.address)
    return client.wait_for_balance(before + amount, timeout=timeout)


def claim_when_final(
    client: Client, l1: L1Account, withdrawal_id: int, *, timeout: float = 300.0
) -> tuple[models.WithdrawalProof, L1Receipt]:
    """Wait until a final batch holds the withdrawal, then claim it on L1."""
    proof = client.wait_for_withdrawal_proof(withdrawal_id, timeout)
    return proof, l1.claim(proof)


async def deposit_and_wait_async(
    client: AsyncClient, l1: L1Account, amount: int, *, timeout: float = DEFAULT_L1_TIMEOUT_S
) -> models.Account:
    """`deposit_and_wait` for an `AsyncClient` (the L1 transaction runs in a thread)."""
    before = await client.balance()
    await asyncio.to_thread(l1.deposit, amount, client.wallet.address)
    return await client.wait_for_balance(before + amount, timeout=timeout)


async def claim_when_final_async(
    client: AsyncClient, l1: L1Account, withdrawal_id: int, *, timeout: float = 300.0
) -> tuple[models.WithdrawalProof, L1Receipt]:
    """`claim_when_final` for an `AsyncClient` (the L1 transaction runs in a thread)."""
    proof = await client.wait_for_withdrawal_proof(withdrawal_id, timeout)
    return proof, await asyncio.to_thread(l1.claim, proof)
