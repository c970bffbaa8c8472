"""The L1 test rig: web3 over in-process eth-tester/py-evm (Prague, a large block gas limit), the
deployment of the rollup's contracts on it (`Env`, `make_env`), raw deployments of other artifacts,
events read from receipts, gas costs, and chain snapshots (`reverted`) so that a test module deploys
once and every test starts from the same chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3
from web3.logs import DISCARD
from web3.types import TxReceipt

from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings import Bridge, Rollup, UnlockedSender, append_batch_gas, transact
from l1_contracts.deploy import Deployment, deploy
from protocol.codec import encode_batch
from protocol.hashing import keccak
from protocol.signing import Domain
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS

__all__ = [
    "BLOCK_GAS_LIMIT",
    "BOND",
    "JUNK_TX",
    "TRACE",
    "WINDOW",
    "Env",
    "deploy_raw",
    "events",
    "gas_cost",
    "make_env",
    "make_w3",
    "reverted",
]

BLOCK_GAS_LIMIT = 1_000_000_000
BOND = 10**18
WINDOW = 100
JUNK_TX = b"\x01\x02"  # does not decode: a failed step on L2, but valid framing on L1
TRACE = b"\x77" * 32


def make_w3(gas_limit: int = BLOCK_GAS_LIMIT) -> tuple[Web3, EthereumTester]:
    """A fresh chain with ten funded, unlocked accounts (`w3.eth.accounts`)."""
    params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": gas_limit})
    tester = EthereumTester(PyEVMBackend(genesis_parameters=params))
    w3 = Web3(EthereumTesterProvider(tester))
    w3.eth.default_account = w3.eth.accounts[0]
    return w3, tester


@contextmanager
def reverted(tester: EthereumTester) -> Iterator[None]:
    """Whatever the block does to the chain is undone after it (eth-tester's `take_snapshot` and
    `revert_to_snapshot`): a module deploys once and each test starts from the same chain."""
    snapshot = tester.take_snapshot()
    try:
        yield
    finally:
        tester.revert_to_snapshot(snapshot)


@dataclass
class Env:
    """A deployment of the Bridge, the one-step prover and the Rollup on a chain of its own."""

    w3: Web3
    tester: Any
    deployment: Deployment
    rollup: Rollup
    bridge: Bridge

    def sender(self, i: int) -> UnlockedSender:
        return UnlockedSender(self.w3.eth.accounts[i])

    @property
    def owner(self) -> UnlockedSender:
        return self.sender(0)

    @property
    def proposer(self) -> UnlockedSender:
        return self.sender(1)

    @property
    def domain(self) -> Domain:
        return Domain(self.deployment.chain_id, bytes.fromhex(self.deployment.rollup[2:]))

    def now(self) -> int:
        """Timestamp of the latest block (the next transaction's block is later)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> None:
        """Mine a block `seconds` after the latest one."""
        self.tester.time_travel(self.now() + seconds)
        self.tester.mine_blocks(1)

    def balance(self, address: str) -> int:
        return int(self.w3.eth.get_balance(Web3.to_checksum_address(address)))

    def post(
        self,
        sender: UnlockedSender | None = None,
        *,
        txs: list[bytes] | None = None,
        ts: int | None = None,
        prev: bytes | None = None,
        post_root: bytes | None = None,
        deposits: int | None = None,
        data: bytes | None = None,
    ) -> TxReceipt:
        """Append a batch; every field defaults to something valid."""
        r = self.rollup
        count = r.batch_count()
        if deposits is None:
            deposits = r.get_batch(count - 1).deposit_count if count else 0
        prev = r.last_root() if prev is None else prev
        if data is None:
            data = encode_batch(self.now() if ts is None else ts, [JUNK_TX] if txs is None else txs)
        post_root = keccak(prev + count.to_bytes(8, "big")) if post_root is None else post_root
        return r.append_batch(
            sender or self.proposer, data, prev, post_root, TRACE, deposits, gas=append_batch_gas(data)
        )


def make_env(*, bond: int = BOND, window: int = WINDOW, genesis_root: bytes | None = None) -> Env:
    """A fresh chain with the rollup deployed from account 0 (the tests' fee schedule)."""
    w3, tester = make_w3()
    d = deploy(
        w3,
        UnlockedSender(w3.eth.accounts[0]),
        bond=bond,
        challenge_window=window,
        genesis_root=genesis_root,
        fee_price=FEE_PRICE,
        fee_recipient=FEE_RECIPIENT_ADDRESS,
    )
    return Env(w3, tester, d, Rollup(w3, d.rollup), Bridge(w3, d.bridge))


def deploy_raw(w3: Web3, name: str, types: list[str], args: list[Any], sender: UnlockedSender) -> str:
    """Deploy artifact `name` with constructor `args` of ABI `types`; its address."""
    artifact = load_artifact(name)
    data = bytes.fromhex(artifact.bytecode[2:]) + abi_encode(types, args)
    return str(transact(w3, sender, to=None, data=data, gas=5_000_000)["contractAddress"])


def events(contract: Any, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    """The `name` events of `receipt`, decoded (no eth_getLogs: eth-tester's is slow)."""
    logs = contract.events[name]().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in logs]


def gas_cost(receipt: TxReceipt) -> int:
    """Wei the sender paid for `receipt`'s gas."""
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
