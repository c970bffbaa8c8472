"""The devnet's chain: eth-tester's py-evm backend, configured and patched where it falls short.

`DevnetBackend` is eth-tester's `PyEVMBackend` with:

- the Prague VM (checked at start), the configured chain id (eth-tester hard-codes its own) and
  block gas limit, and development accounts derived from the public test mnemonic (the one anvil
  and hardhat use, so the keys are well known and must never hold real funds);
- a gas estimator that runs the transaction once at the block gas limit, then confirms the gas it
  used (py-evm's own estimator bisects from the block limit: about twenty full executions, which
  at py-evm's speed is minutes for a transaction of a few million gas);
- revert data kept intact for `eth_call` (eth-tester turns it into a message string);
- transactions and receipts looked up through the chain database's hash index (eth-tester scans
  every block back from the head, which makes `eth_getLogs` quadratic in the chain's length);
- pending block timestamps set from the wall clock when a transaction arrives (py-evm stamps the
  next block when the previous one is mined, so after an idle minute the next block would be a
  minute behind), plus a time offset for `evm_increaseTime`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from eth.abc import BlockAPI, ComputationAPI, SignedTransactionAPI, StateAPI
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.forks.prague import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_tester import PyEVMBackend
from eth_tester.backends.pyevm.main import (
    _get_block_by_number,
    generate_genesis_state_for_keys,
    get_account_keys_from_mnemonic,
    get_default_genesis_params,
    setup_tester_chain,
)
from eth_tester.backends.pyevm.serializers import serialize_transaction, serialize_transaction_receipt
from eth_tester.exceptions import TransactionFailed, TransactionNotFound

from l1_contracts.devnet.accounts import DEV_HD_PATH, DEV_MNEMONIC

EVM_FORK = "prague"
FEE_KEYS = ("gas_price", "max_fee_per_gas", "max_priority_fee_per_gas")


def _run(state: StateAPI, transaction: SignedTransactionAPI, gas: int) -> ComputationAPI:
    """Execute `transaction` with `gas` on `state` and roll the state back."""
    snapshot = state.snapshot()
    try:
        return state.apply_transaction(cast(SignedTransactionAPI, SpoofTransaction(transaction, gas=gas)))
    finally:
        state.revert(snapshot)


def estimate_gas(state: StateAPI, transaction: SignedTransactionAPI) -> int:
    """The least gas (within 1%) that runs `transaction` without error, as geth estimates it.

    The search is capped by the block gas limit and, when the transaction has a fee cap, by what
    the sender can pay. One execution at the cap gives the gas used before refunds (plus the
    EIP-7623 calldata floor); that is enough unless the transaction forwards gas to calls (the
    63/64 rule) or checks `gasleft()`, and then a bisection between it and the cap finds the least
    that works. Raises the VM's error (a revert, out of gas at the cap, an invalid instruction)
    when even the cap fails, as py-evm's own estimator does.
    """
    cap = state.gas_limit
    fee_cap = transaction.max_fee_per_gas
    if fee_cap > 0:
        cap = min(cap, max(0, state.get_balance(transaction.sender) - transaction.value) // fee_cap)
    cap = max(cap, transaction.intrinsic_gas)
    at_cap = _run(state, transaction, cap)
    if at_cap.is_error:
        raise at_cap.error
    used = cap - at_cap.get_gas_remaining()
    floor = used - at_cap.get_gas_refund() + getattr(at_cap, "data_floor_gas", 0)
    needed = max(used, floor, transaction.intrinsic_gas)
    if not _run(state, transaction, needed).is_error:
        return needed
    low, high = needed, cap
    probe = min(cap, needed * 64 // 63 + 10_000)
    while high - low > max(1_000, low // 100):
        mid = probe if low < probe < high else (low + high) // 2
        probe = 0
        if _run(state, transaction, mid).is_error:
            low = mid
        else:
            high = mid
    return high


def _without_fees(transaction: dict[str, Any]) -> dict[str, Any]:
    """A call or estimate that names no fee pays none (geth: gas price 0, base fee 0), so that any
    sender, funded or not, can run it."""
    if any(key in transaction for key in FEE_KEYS):
        return transaction
    return {**transaction, "max_fee_per_gas": 0, "max_priority_fee_per_gas": 0}


class DevnetBackend(PyEVMBackend):  # type: ignore[misc]  # eth-tester ships no type hints
    """eth-tester's py-evm backend with the devnet's chain id, gas limit, accounts and fixes."""

    def __init__(self, *, chain_id: int, block_gas_limit: int, accounts: int, balance_wei: int) -> None:
        self.devnet_chain_id = chain_id
        self.block_gas_limit = block_gas_limit
        self.num_accounts = accounts
        self.balance_wei = balance_wei
        self.time_offset = 0  # seconds added to the wall clock (evm_increaseTime)
        self._pinned: tuple[int, int] | None = None  # (block number, its timestamp), see pin_timestamp
        # PyEVMBackend.__init__ only checks py-evm and calls reset_to_genesis, which builds the chain.
        super().__init__()

    def reset_to_genesis(self, *_args: Any, **_kwargs: Any) -> None:
        """Build the chain from genesis with this devnet's settings (any arguments are ignored)."""
        keys = get_account_keys_from_mnemonic(DEV_MNEMONIC, quantity=self.num_accounts, hd_path=DEV_HD_PATH)
        genesis_state = generate_genesis_state_for_keys(keys, overrides={"balance": self.balance_wei})
        genesis_params = get_default_genesis_params(
            overrides={"gas_limit": self.block_gas_limit, "timestamp": int(time.time())}
        )
        _keys, chain = setup_tester_chain(
            genesis_params=genesis_params,
            genesis_state=genesis_state,
            vm_configuration=((0, PragueVM),),
            mnemonic=DEV_MNEMONIC,
            hd_path=DEV_HD_PATH,
        )
        # setup_tester_chain defines a fresh chain class on every call, so setting class attributes
        # here changes this chain only; the class (not the instance) carries them so that they
        # survive eth-tester re-creating the chain object when it reverts to the genesis snapshot.
        chain_class = type(chain)
        chain_class.chain_id = self.devnet_chain_id
        chain_class.gas_estimator = staticmethod(estimate_gas)
        chain.gas_estimator = estimate_gas  # Chain.__init__ already copied py-evm's default here
        self.account_keys, self.chain = keys, chain
        fork = chain.get_vm().fork
        if fork != EVM_FORK:  # pragma: no cover - guards an eth-tester upgrade
            raise RuntimeError(f"the devnet chain runs the {fork} VM, expected {EVM_FORK}")

    # -- time ------------------------------------------------------------------------------------

    def pin_timestamp(self, timestamp: int) -> None:
        """Give the next block `timestamp` (evm_setNextBlockTimestamp, evm_mine with a timestamp)."""
        self._pinned = (self.chain.header.block_number, timestamp)

    def clock(self) -> int:
        """The chain's idea of now: the wall clock plus the offset of evm_increaseTime."""
        return int(time.time()) + self.time_offset

    @property
    def next_timestamp_pinned(self) -> bool:
        """Whether the next block's timestamp was pinned (evm_setNextBlockTimestamp) and not yet used."""
        return self._pinned is not None and self._pinned[0] == self.chain.header.block_number

    def stamp_pending_block(self) -> None:
        """Give the (empty) pending block its timestamp: the pinned one, or else the wall clock plus
        the offset, and at least its parent's + 1. Call it before a block is built or read."""
        header = self.chain.header
        if header.gas_used != 0:  # pragma: no cover - auto-mining keeps the pending block empty
            return
        pinned = self._pinned
        wanted = pinned[1] if pinned is not None and pinned[0] == header.block_number else self.clock()
        timestamp = max(self.chain.get_canonical_head().timestamp + 1, wanted)
        if timestamp != header.timestamp:
            self.chain.header = header.copy(timestamp=timestamp)

    # -- lookups by transaction hash through the chain database's index --------------------------

    def _find_transaction(self, transaction_hash: bytes) -> tuple[BlockAPI, SignedTransactionAPI, int]:
        try:
            number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except EVMTransactionNotFound:
            pass
        else:
            block = self.chain.get_canonical_block_by_number(number)
            if index < len(block.transactions) and block.transactions[index].hash == transaction_hash:
                return block, block.transactions[index], index
        head = self.chain.get_block()  # the pending block (empty while transactions auto-mine)
        for index, transaction in enumerate(head.transactions):
            if transaction.hash == transaction_hash:
                return head, transaction, index
        raise TransactionNotFound(f"No transaction found for transaction hash: 0x{transaction_hash.hex()}")

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, transaction, index = self._find_transaction(transaction_hash)
        is_pending = block.number == self.chain.get_block().number
        return serialize_transaction(block, transaction, index, is_pending)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        block, transaction, index = self._find_transaction(transaction_hash)
        is_pending = block.number == self.chain.get_block().number
        receipts = block.get_receipts(self.chain.chaindb)
        return serialize_transaction_receipt(
            block, receipts, transaction, index, is_pending, self.chain.get_vm()
        )

    # -- eth_call keeps the revert data ----------------------------------------------------------

    def call(self, transaction: dict[str, Any], block_number: Any = "latest") -> bytes:
        """As `PyEVMBackend.call`, but a failure raises `TransactionFailed(vm_error)` with the VM's
        error itself (a `Revert` carries the revert data) rather than a message made from it."""
        free = not any(key in transaction for key in FEE_KEYS)
        defaulted = _without_fees(transaction)
        if "gas" not in defaulted:
            defaulted = {**defaulted, "gas": self._max_available_gas()}
        unsigned = self._get_normalized_and_unsigned_evm_transaction(defaulted, block_number)
        spoofed = cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=transaction["from"]))
        header = _get_block_by_number(self.chain, block_number).header
        if free:  # no fee named: run with base fee 0, as geth's eth_call does (NoBaseFee)
            header = header.copy(base_fee_per_gas=0)
        state = self.chain.get_vm(at_header=header).state
        snapshot = state.snapshot()
        try:
            computation = state.apply_transaction(spoofed)
        finally:
            state.revert(snapshot)
        if computation.is_error:
            raise TransactionFailed(computation.error)
        return bytes(computation.output)

    def estimate_gas(self, transaction: dict[str, Any], block_number: Any = "latest") -> int:
        """As `PyEVMBackend.estimate_gas`; a transaction that names no fee pays none."""
        estimate: Callable[..., int] = super().estimate_gas
        return estimate(_without_fees(transaction), block_number)
