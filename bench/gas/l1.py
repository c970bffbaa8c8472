"""An in-process L1 (eth-tester/py-evm, Prague) with the real contracts deployed, and a poster that
executes L2 txs with the protocol's own `apply_batch` and posts every batch to the real `Rollup`
(`appendBatch`, then `finalize` after its challenge window): the rollup side of the figures the
full stack would take too long to produce at 1,000 miners. Batches are cut as the sequencer cuts
them (at most `BATCH_MAX_TXS` txs, `BATCH_MAX_BYTES` bytes and `MAX_BATCH_STEPS` steps)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from bench.fees import FEES
from l1_contracts.bindings import Rollup, UnlockedSender, append_batch_gas
from l1_contracts.deploy import deploy
from protocol.codec import encode_batch
from protocol.hashing import keccak
from protocol.params import MAX_BATCH_STEPS
from protocol.signing import Domain, address_of, sign_tx, to_checksum_address
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.txs import Tx

BATCH_MAX_TXS = 1_000  # the sequencer's block_max_txs: its batches of small txs hold 1,000
BATCH_MAX_BYTES = 126_000  # the sequencer's default batch_max_bytes
CHALLENGE_WINDOW = 1


class Keys:
    """Deterministic L2 keys, each with its next nonce."""

    def __init__(self, tag: bytes) -> None:
        self.tag = tag
        self._keys: dict[int, bytes] = {}
        self.nonces: dict[int, int] = {}

    def key(self, i: int) -> bytes:
        if i not in self._keys:
            self._keys[i] = keccak(self.tag + i.to_bytes(8, "big"))
        return self._keys[i]

    def address(self, i: int) -> bytes:
        return address_of(self.key(i))

    def sign(self, domain: Domain, i: int, tx: Tx) -> bytes:
        """`tx` signed by key `i` at its next nonce (whatever nonce `tx` has)."""
        nonce = self.nonces.get(i, 0)
        self.nonces[i] = nonce + 1
        return sign_tx(domain, replace(tx, nonce=nonce), self.key(i)).encoded


@dataclass(frozen=True)
class PostedBatch:
    """A batch executed by `apply_batch` and posted to the Rollup."""

    index: int
    timestamp: int
    txs: tuple[bytes, ...]
    data: bytes  # the batch data (section 4), the appendBatch calldata's payload
    steps: int
    append_gas: int  # the appendBatch receipt
    finalize_gas: float  # its share of the finalize transaction that finalized it

    @property
    def gas(self) -> float:
        return self.append_gas + self.finalize_gas


class InProcessL1:
    """A fresh chain, the contracts deployed with `state` as genesis, a bonded proposer."""

    def __init__(self, balances: Mapping[bytes, int]) -> None:
        genesis = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": 1_000_000_000})
        self.tester = EthereumTester(PyEVMBackend(genesis_parameters=genesis))
        self.w3 = Web3(EthereumTesterProvider(self.tester))
        accounts = list(self.w3.eth.accounts)
        self.owner, self.proposer = UnlockedSender(accounts[0]), UnlockedSender(accounts[1])
        self.state = State.with_balances(balances)
        self.deployment = deploy(  # the fee schedule the bench's batches run with (bench.fees.FEES)
            self.w3,
            self.owner,
            bond=10**18,
            challenge_window=CHALLENGE_WINDOW,
            genesis_root=self.state.root,
            fee_price=FEES.price,
            fee_recipient=to_checksum_address(FEES.recipient),
        )
        self.rollup = Rollup(self.w3, self.deployment.rollup)
        self.rollup.bond(self.proposer)
        self.domain = Domain(self.deployment.chain_id, bytes.fromhex(self.deployment.rollup[2:]))
        self.batches: list[PostedBatch] = []
        self.results: list[BatchResult] = []

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> int:
        """Mine a block `seconds` later; its timestamp."""
        self.tester.time_travel(self.now() + seconds)
        self.tester.mine_blocks(1)
        return self.now()

    def post(self, txs: Sequence[bytes], max_txs: int = BATCH_MAX_TXS) -> list[PostedBatch]:
        """Execute `txs` in order in as many batches as the limits need, post each, then finalize
        them; the batches, in order. Every tx must succeed."""
        groups: list[list[bytes]] = [[]]
        size = 0
        for tx in txs:
            framed = 3 + len(tx)
            if groups[-1] and (len(groups[-1]) >= max_txs or size + framed > BATCH_MAX_BYTES):
                groups.append([])
                size = 0
            groups[-1].append(tx)
            size += framed
        posted: list[PostedBatch] = []
        pending = [g for g in groups if g]
        while pending:
            group = pending.pop(0)
            ts = self.now()
            result = apply_batch(self.state, [], group, BatchContext(self.domain, FEES, ts))
            if len(result.steps) > MAX_BATCH_STEPS and len(group) > 1:
                half = len(group) // 2
                pending[:0] = [group[:half], group[half:]]
                continue
            failed = [r for r in result.receipts if not r.success]
            if failed:
                raise AssertionError(f"{len(failed)} txs failed in a batch: first {failed[0].reason!r}")
            posted.append(self._append(group, ts, result))
        self.advance(CHALLENGE_WINDOW + 1)
        receipt = self.rollup.finalize(self.proposer)
        share = int(receipt["gasUsed"]) / len(posted)
        done = [
            PostedBatch(b.index, b.timestamp, b.txs, b.data, b.steps, b.append_gas, share) for b in posted
        ]
        self.batches.extend(done)
        return done

    def _append(self, group: list[bytes], ts: int, result: BatchResult) -> PostedBatch:
        data = encode_batch(ts, group)
        index = self.rollup.batch_count()
        receipt = self.rollup.append_batch(
            self.proposer,
            data,
            self.state.root,
            result.post_root,
            result.trace_root,
            0,
            gas=append_batch_gas(data),
        )
        self.state = result.post_state
        self.results.append(result)
        return PostedBatch(index, ts, tuple(group), data, len(result.steps), int(receipt["gasUsed"]), 0.0)
