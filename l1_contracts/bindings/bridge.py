"""Typed binding of the Bridge contract (`l1_contracts/src/bridge/Bridge.sol`)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address
from web3.types import TxReceipt

from l1_contracts.bindings.tx import BoundContract, Sender
from protocol.deposits import Deposit
from protocol.smt import SmtProof

# Gas limits that cover the calls with a margin (measured on py-evm, Prague).
GAS_DEPOSIT = 150_000
GAS_SET_ROLLUP = 80_000


def claim_gas(proof: bytes) -> int:
    """A gas limit that covers `claimWithdrawal` with a proof of `len(proof)` bytes.

    Measured: about 71k with a short proof to an existing account (a new claimed-bitmap word is 22k,
    the ETH transfer 9k), 25k more when the recipient account is new, about 700 gas a sibling.
    """
    return 140_000 + 16 * len(proof) + 1_500 * (len(proof) // 32 + 1)


@dataclass(frozen=True, slots=True)
class DepositLog:
    """A `Deposited` event: the deposit, its hashes, the L1 sender and where it was logged."""

    deposit: Deposit
    sender: str
    deposit_hash: bytes
    rolling_hash: bytes  # h_{index+1}
    block_number: int
    tx_hash: bytes


@dataclass(frozen=True, slots=True)
class WithdrawalClaimed:
    withdrawal_id: int
    recipient: str
    batch_index: int
    amount: int
    block_number: int
    tx_hash: bytes


class Bridge(BoundContract):
    """The Bridge at `address`. Views return typed values; sends take a `Sender` and a gas limit."""

    ARTIFACT = "Bridge"

    # --- views ---------------------------------------------------------------------------------

    def deployer(self) -> str:
        return str(self._call("deployer"))

    def rollup_address(self) -> str:
        """The wired Rollup (the zero address before `set_rollup`)."""
        return str(self._call("rollup"))

    def deposit_count(self) -> int:
        return int(self._call("depositCount"))

    def rolling_hash(self, count: int) -> bytes:
        """h_count, the rolling hash after the first `count` deposits (`DepositOutOfRange` past the queue)."""
        return bytes(self._call("rollingHash", count))

    def deposit_hash(self, index: int) -> bytes:
        return bytes(self._call("depositHash", index))

    def is_claimed(self, withdrawal_id: int) -> bool:
        return bool(self._call("isClaimed", withdrawal_id))

    def withdrawal_key(self, withdrawal_id: int) -> bytes:
        return bytes(self._call("withdrawalKey", withdrawal_id))

    def balance(self) -> int:
        """The ETH the Bridge holds (wei)."""
        return int(self.w3.eth.get_balance(self.address))

    # --- transactions --------------------------------------------------------------------------

    def set_rollup(self, sender: Sender, rollup: str, *, gas: int = GAS_SET_ROLLUP) -> TxReceipt:
        return self._send(sender, "setRollup", [to_checksum_address(rollup)], gas=gas)

    def deposit(
        self, sender: Sender, l2_recipient: bytes | str, amount: int, *, gas: int = GAS_DEPOSIT
    ) -> TxReceipt:
        """Deposit `amount` wei for `l2_recipient` (20 bytes or a hex address) on L2."""
        recipient = to_checksum_address(l2_recipient)
        return self._send(sender, "deposit", [recipient], gas=gas, value=amount)

    def claim_withdrawal(
        self,
        sender: Sender,
        batch_index: int,
        withdrawal_id: int,
        recipient: bytes | str,
        amount: int,
        proof: bytes | SmtProof,
        *,
        gas: int | None = None,
    ) -> TxReceipt:
        """Claim withdrawal `withdrawal_id` against finalized batch `batch_index`; pays `recipient`."""
        raw = proof.encode() if isinstance(proof, SmtProof) else proof
        args = [batch_index, withdrawal_id, to_checksum_address(recipient), amount, raw]
        return self._send(sender, "claimWithdrawal", args, gas=gas if gas is not None else claim_gas(raw))

    # --- events --------------------------------------------------------------------------------

    def deposit_logs(self, from_block: int = 0, to_block: int | str = "latest") -> list[DepositLog]:
        out = []
        for log in self._logs("Deposited", from_block, to_block):
            a = log["args"]
            deposit = Deposit(int(a["index"]), bytes.fromhex(str(a["l2Recipient"])[2:]), int(a["amount"]))
            out.append(
                DepositLog(
                    deposit,
                    str(a["from"]),
                    bytes(a["depositHash"]),
                    bytes(a["rollingHash"]),
                    int(log["blockNumber"]),
                    bytes(log["transactionHash"]),
                )
            )
        return out

    def deposits_since(self, from_block: int = 0, to_block: int | str = "latest") -> list[Deposit]:
        """The deposits logged in blocks `from_block…to_block`, in queue order."""
        return [d.deposit for d in self.deposit_logs(from_block, to_block)]

    def withdrawals_claimed(
        self, from_block: int = 0, to_block: int | str = "latest"
    ) -> list[WithdrawalClaimed]:
        return [
            WithdrawalClaimed(
                int(log["args"]["withdrawalId"]),
                str(log["args"]["recipient"]),
                int(log["args"]["batchIndex"]),
                int(log["args"]["amount"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
            )
            for log in self._logs("WithdrawalClaimed", from_block, to_block)
        ]
