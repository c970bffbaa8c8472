"""Typed binding of the Rollup contract (`l1_contracts/src/rollup/Rollup.sol`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, cast

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.types import TxReceipt

from l1_contracts.bindings.tx import BoundContract, Sender
from l1_contracts.errors import CalldataUndecodable, L1Error
from protocol.codec import decode_batch
from protocol.errors import CodecError
from protocol.fraud import FraudProof, LastStepProof, StepProof
from protocol.params import MAX_BATCH_TXS

# Gas limits that cover the calls with a margin (measured on py-evm, Prague).
GAS_BOND = 100_000
GAS_UNBOND = 100_000
GAS_FINALIZE_BASE = 60_000
GAS_FINALIZE_PER_BATCH = (
    25_000  # measured about 14k: two cold batch slots, the status, the counter, the event
)


def append_batch_gas(batch_data: bytes) -> int:
    """A gas limit that covers `appendBatch(batch_data, …)` with a margin of 20%.

    The larger of two measured bounds: execution (21k base, about 200k of fixed cost for six new
    storage slots, two Bridge calls and the event, about 350 gas a tx for the framing, the tx hashes
    and the tx root, 16/4 gas a non-zero/zero calldata byte, memory for the largest tx and the tx
    hashes) and the EIP-7623 calldata floor of Prague (10 gas a token, 4 tokens a non-zero byte).
    """
    size = len(batch_data)
    nonzero = size - batch_data.count(0)
    zero = size - nonzero
    abi_overhead = 8 * 32  # selector, five head words, the length, padding: mostly zero bytes
    floor = 21_000 + 10 * (4 * nonzero + zero + 4 * 32 + abi_overhead)
    try:
        _, txs = decode_batch(batch_data)
        count, biggest = len(txs), max((len(t) for t in txs), default=0)
    except CodecError:  # it will revert; leave room for the parse up to the error
        count, biggest = MAX_BATCH_TXS, size
    words = (biggest + 31) // 32 + count + 64
    memory = 3 * words + words * words // 512
    execution = 230_000 + 450 * count + 9 * ((size + 31) // 32) + memory
    standard = 21_000 + 16 * nonzero + 4 * zero + 16 * 4 * 32 + 4 * abi_overhead + execution
    return max(floor, standard) * 6 // 5


# The fraud-proof game (measured on py-evm, Prague; see docs/results.md), with margins.
GAS_CHALLENGE = 120_000  # measured about 73k: a new challenge slot, the batch's status, the event
GAS_WITHDRAW_PAYOUT = 60_000
GAS_PROVE_BAD_LAST_STEP = 200_000  # plus GAS_PER_DELETED_BATCH for each batch rolled back
GAS_PER_DELETED_BATCH = 30_000  # status, the proposer's pending count, a challenge refund, events
GAS_TIMEOUT = 150_000  # plus GAS_PER_DELETED_BATCH when the challenger wins
# proveFraud: the one-step prover's own gas (below 8M by the protocol's step sizes) plus the game's
GAS_PROVE_FRAUD_OVERHEAD = 250_000
GAS_PROVE_FRAUD_MAX = 8_000_000 + GAS_PROVE_FRAUD_OVERHEAD


def reveal_steps_gas(step_count: int) -> int:
    """A gas limit that covers `revealSteps` of `step_count` hashes with a margin of 20%.

    Calldata dominates: Prague's EIP-7623 floor charges 10 gas a token, 4 tokens a non-zero byte, so a
    32-byte step hash costs 1,280 gas at the floor, against 512 of calldata plus about 150 of hashing
    and memory when executed. The larger of the two, with the quadratic memory of the half-list buffer.
    """
    floor = 21_000 + 10 * (4 * 32 * step_count + 4 * 4 + 64 * 4)
    words = (step_count + 1) // 2
    execution = 60_000 + 160 * step_count + 3 * words + words * words // 512
    standard = 21_000 + 16 * 32 * step_count + 16 * 4 + 4 * 96 + execution
    return max(floor, standard) * 6 // 5


class BatchStatus(IntEnum):
    PENDING = 0
    FINALIZED = 1
    DELETED = 2
    CHALLENGED = 3  # an open challenge: neither it nor a later batch finalizes until it resolves


class ChallengePhase(IntEnum):
    """The phases of the Rollup's fraud game for one batch (docs/spec.md section 9)."""

    NONE = 0
    AWAITING_REVEAL = 1  # the proposer must reveal the step hashes within the response window
    AWAITING_PROOF = 2  # the challenger must prove a wrong step within the proof window


class Resolution(IntEnum):
    """How a challenge ended (`ChallengeResolved`)."""

    FRAUD_PROVEN = 0  # the challenger won: a step re-executed differently
    BAD_LAST_STEP = 1  # the challenger won: the trace does not end in the post root
    REVEAL_TIMEOUT = 2  # the challenger won: no reveal in time
    PROOF_TIMEOUT = 3  # the proposer won: no proof in time
    BATCH_ROLLED_BACK = 4  # an earlier batch's fraud deleted this one; the challenger's bond came back


class RevealNotFound(L1Error):
    """No `StepsRevealed` event for the batch in the scanned blocks, or its transaction is not a direct
    call of `revealSteps` (a reveal relayed by another contract: read the hashes from that call)."""


@dataclass(frozen=True, slots=True)
class ChallengeInfo:
    """`getChallenge(i)`: the open challenge of batch `index` (phase NONE when there is none)."""

    index: int
    challenger: str
    deadline: int
    phase: ChallengePhase
    step_count: int


@dataclass(frozen=True, slots=True)
class StepContextInfo:
    """`stepContext(i)`: what the Rollup passes the one-step prover for batch `index`."""

    domain_separator: bytes
    batch_data_hash: bytes
    deposit_start: int
    deposit_end: int
    bridge: str
    fee_price: int
    fee_recipient: str


@dataclass(frozen=True, slots=True)
class ChallengeResolved:
    index: int
    challenger: str
    resolution: Resolution
    step_index: int
    block_number: int
    tx_hash: bytes


@dataclass(frozen=True, slots=True)
class Challenged:
    """A `Challenged` event: who challenged batch `index` and in which transaction."""

    index: int
    challenger: str
    reveal_deadline: int
    block_number: int
    tx_hash: bytes


@dataclass(frozen=True, slots=True)
class ProposerSlashed:
    """A `ProposerSlashed` event: the bond taken from `proposer` for batch `index`, and its split."""

    proposer: str
    index: int
    amount: int
    to_challenger: int
    burned: int
    block_number: int
    tx_hash: bytes


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """`getBatch(i)`: what the Rollup stores for batch `index`."""

    index: int
    data_hash: bytes
    post_root: bytes
    trace_root: bytes
    deposit_rolling_hash: bytes
    deposit_count: int
    l2_timestamp: int
    l1_timestamp: int
    status: BatchStatus
    proposer: str


@dataclass(frozen=True, slots=True)
class BatchAppended:
    """A `BatchAppended` event, where it was logged and the transaction that carries the batch data."""

    index: int
    proposer: str
    data_hash: bytes
    prev_root: bytes
    post_root: bytes
    trace_root: bytes
    deposit_count: int
    deposit_rolling_hash: bytes
    l2_timestamp: int
    l1_timestamp: int
    tx_count: int
    tx_root: bytes
    block_number: int
    tx_hash: bytes
    log_index: int


@dataclass(frozen=True, slots=True)
class BatchFinalized:
    index: int
    post_root: bytes
    block_number: int
    tx_hash: bytes
    log_index: int = 0


@dataclass(frozen=True, slots=True)
class BatchDeleted:
    index: int
    post_root: bytes
    block_number: int
    tx_hash: bytes
    log_index: int = 0


class Rollup(BoundContract):
    """The Rollup at `address`. Views return typed values; sends take a `Sender` and a gas limit."""

    ARTIFACT = "Rollup"

    # --- parameters ----------------------------------------------------------------------------

    def bridge_address(self) -> str:
        return str(self._call("bridge"))

    def genesis_root(self) -> bytes:
        return bytes(self._call("genesisRoot"))

    def bond_amount(self) -> int:
        return int(self._call("bondAmount"))

    def challenge_window(self) -> int:
        return int(self._call("challengeWindow"))

    def prover_address(self) -> str:
        return str(self._call("prover"))

    def challenger_bond(self) -> int:
        return int(self._call("challengerBond"))

    def response_window(self) -> int:
        return int(self._call("responseWindow"))

    def proof_window(self) -> int:
        return int(self._call("proofWindow"))

    def challenger_share_bps(self) -> int:
        return int(self._call("challengerShareBps"))

    def domain_separator(self) -> bytes:
        """The EIP-712 domain separator of L2 txs, as the Rollup computed it (`protocol.signing.Domain`)."""
        return bytes(self._call("domainSeparator"))

    def fee_price(self) -> int:
        """Wei an L2 fee unit (docs/spec.md section 6)."""
        return int(self._call("feePrice"))

    def fee_recipient(self) -> str:
        """The L2 address (checksummed) credited with every L2 fee."""
        return str(self._call("feeRecipient"))

    # --- state ---------------------------------------------------------------------------------

    def bond_of(self, proposer: str) -> int:
        return int(self._call("bondOf", to_checksum_address(proposer)))

    def pending_batches_of(self, proposer: str) -> int:
        return int(self._call("pendingBatchesOf", to_checksum_address(proposer)))

    def batch_count(self) -> int:
        return int(self._call("batchCount"))

    def finalized_count(self) -> int:
        return int(self._call("finalizedCount"))

    def get_batch(self, index: int) -> BatchInfo:
        """Batch `index` (`NoSuchBatch` at or past `batch_count()`)."""
        b = self._call("getBatch", index)
        return BatchInfo(
            index=index,
            data_hash=bytes(b[0]),
            post_root=bytes(b[1]),
            trace_root=bytes(b[2]),
            deposit_rolling_hash=bytes(b[3]),
            deposit_count=int(b[4]),
            l2_timestamp=int(b[5]),
            l1_timestamp=int(b[6]),
            status=BatchStatus(int(b[7])),
            proposer=str(b[8]),
        )

    def prev_root_of(self, index: int) -> bytes:
        return bytes(self._call("prevRootOf", index))

    def is_finalized(self, index: int) -> bool:
        return bool(self._call("isFinalized", index))

    def finalized_root(self, index: int) -> bytes:
        """Post root of finalized batch `index` (`BatchNotFinalized` otherwise)."""
        return bytes(self._call("finalizedRoot", index))

    def last_root(self) -> bytes:
        return bytes(self._call("lastRoot"))

    def last_finalized_root(self) -> bytes:
        return bytes(self._call("lastFinalizedRoot"))

    def finalizable(self, max_batches: int = 2**256 - 1) -> int:
        """How many batches `finalize(max_batches)` would finalize now."""
        return int(self._call("finalizable", max_batches))

    def get_challenge(self, index: int) -> ChallengeInfo:
        c = self._call("getChallenge", index)
        return ChallengeInfo(index, str(c[0]), int(c[1]), ChallengePhase(int(c[2])), int(c[3]))

    def step_context(self, index: int) -> StepContextInfo:
        c = self._call("stepContext", index)
        return StepContextInfo(
            bytes(c[0]), bytes(c[1]), int(c[2]), int(c[3]), str(c[4]), int(c[5]), str(c[6])
        )

    def payout_of(self, account: str) -> int:
        """Wei the game credited to `account` (rewards, bonds), taken with `withdraw_payout`."""
        return int(self._call("payoutOf", to_checksum_address(account)))

    def burned_total(self) -> int:
        """Wei of slashed bonds locked in the Rollup for ever."""
        return int(self._call("burnedTotal"))

    # --- transactions --------------------------------------------------------------------------

    def bond(self, sender: Sender, *, gas: int = GAS_BOND, value: int | None = None) -> TxReceipt:
        """Lock the bond (`value` defaults to `bond_amount()`)."""
        amount = self.bond_amount() if value is None else value
        return self._send(sender, "bond", [], gas=gas, value=amount)

    def unbond(self, sender: Sender, *, gas: int = GAS_UNBOND) -> TxReceipt:
        return self._send(sender, "unbond", [], gas=gas)

    def append_batch(
        self,
        sender: Sender,
        batch_data: bytes,
        prev_root: bytes,
        post_root: bytes,
        trace_root: bytes,
        deposit_count: int,
        *,
        gas: int,
    ) -> TxReceipt:
        """Post a batch; `gas` is explicit (`append_batch_gas(batch_data)` is a safe limit)."""
        args = [batch_data, prev_root, post_root, trace_root, deposit_count]
        return self._send(sender, "appendBatch", args, gas=gas)

    def finalize(self, sender: Sender, max_batches: int = 256, *, gas: int | None = None) -> TxReceipt:
        """Finalize up to `max_batches` batches whose window has passed. Without `gas`, the limit is
        sized to the batches `finalizable(max_batches)` reports now."""
        if gas is None:
            gas = GAS_FINALIZE_BASE + GAS_FINALIZE_PER_BATCH * max(1, self.finalizable(max_batches))
        return self._send(sender, "finalize", [max_batches], gas=gas)

    # --- the fraud-proof game --------------------------------------------------------------------

    def challenge(
        self, sender: Sender, index: int, *, gas: int = GAS_CHALLENGE, value: int | None = None
    ) -> TxReceipt:
        """Challenge batch `index`, locking the challenger bond (`value` defaults to `challenger_bond()`)."""
        amount = self.challenger_bond() if value is None else value
        return self._send(sender, "challenge", [index], gas=gas, value=amount)

    def reveal_steps(
        self, sender: Sender, index: int, step_hashes: list[bytes], *, gas: int | None = None
    ) -> TxReceipt:
        """Answer the challenge of batch `index` with its step hashes (`reveal_steps_gas` by default)."""
        if gas is None:
            gas = reveal_steps_gas(len(step_hashes))
        return self._send(sender, "revealSteps", [index, list(step_hashes)], gas=gas)

    def prove_fraud(self, sender: Sender, index: int, proof: StepProof, *, gas: int) -> TxReceipt:
        """`proveFraud` with the arguments `protocol.fraud.step_proof` built. `gas` is explicit: the
        prover's gas for the step plus `GAS_PROVE_FRAUD_OVERHEAD` (and `GAS_PER_DELETED_BATCH` a batch
        rolled back); `GAS_PROVE_FRAUD_MAX` covers any step."""
        args = [
            index,
            proof.step_index,
            proof.pre_leaf,
            list(proof.pre_proof),
            proof.post_leaf,
            list(proof.post_proof),
            proof.witness_bytes,
        ]
        return self._send(sender, "proveFraud", args, gas=gas)

    def prove_bad_last_step(
        self, sender: Sender, index: int, proof: LastStepProof, *, gas: int | None = None
    ) -> TxReceipt:
        """`proveBadLastStep` with the arguments `protocol.fraud.last_step_proof` built."""
        if gas is None:
            gas = GAS_PROVE_BAD_LAST_STEP + GAS_PER_DELETED_BATCH * self._rolled_back(index)
        args = [index, proof.last_leaf, list(proof.proof), proof.l2_timestamp, proof.tx_count, proof.tx_root]
        return self._send(sender, "proveBadLastStep", args, gas=gas)

    def prove(self, sender: Sender, index: int, proof: FraudProof, *, gas: int | None = None) -> TxReceipt:
        """Send whichever proof `protocol.fraud.find_fraud` returned (`GAS_PROVE_FRAUD_MAX` for a step)."""
        if isinstance(proof, LastStepProof):
            return self.prove_bad_last_step(sender, index, proof, gas=gas)
        if gas is None:
            gas = GAS_PROVE_FRAUD_MAX + GAS_PER_DELETED_BATCH * self._rolled_back(index)
        return self.prove_fraud(sender, index, proof, gas=gas)

    def settle_timeout(self, sender: Sender, index: int, *, gas: int | None = None) -> TxReceipt:
        """`timeout(index)`: settle batch `index`'s challenge after its deadline (anyone may). Not named
        `timeout`, which is the receipt timeout of every binding."""
        if gas is None:
            gas = GAS_TIMEOUT + GAS_PER_DELETED_BATCH * self._rolled_back(index)
        return self._send(sender, "timeout", [index], gas=gas)

    def withdraw_payout(self, sender: Sender, *, gas: int = GAS_WITHDRAW_PAYOUT) -> TxReceipt:
        """Take what the game credited to `sender` (`payout_of`)."""
        return self._send(sender, "withdrawPayout", [], gas=gas)

    def _rolled_back(self, index: int) -> int:
        """How many batches a win of the challenger of `index` deletes now (at least one)."""
        return max(1, self.batch_count() - index)

    def revealed_steps(self, index: int, from_block: int = 0, to_block: int | str = "latest") -> list[bytes]:
        """The step hashes of the latest reveal for batch `index`, read back from its transaction's
        calldata (`RevealNotFound` when there is none in the blocks scanned)."""
        logs = self.contract.events["StepsRevealed"]().get_logs(
            argument_filters={"batchIndex": index}, from_block=from_block, to_block=cast(Any, to_block)
        )
        if not logs:
            raise RevealNotFound(f"no StepsRevealed for batch {index} since block {from_block}")
        log = max(logs, key=lambda entry: (entry["blockNumber"], entry["logIndex"]))
        tx: Any = self.w3.eth.get_transaction(log["transactionHash"])
        if to_checksum_address(str(tx["to"])) != self.address:
            raise RevealNotFound(f"the reveal of batch {index} was not a direct call of this Rollup")
        try:
            name, params = self.decode_call(bytes(tx["input"]))
        except CalldataUndecodable as exc:
            raise RevealNotFound(f"the reveal of batch {index} does not decode: {exc}") from None
        if name != "revealSteps" or int(params["batchIndex"]) != index:
            raise RevealNotFound(f"transaction {log['transactionHash'].hex()} is not revealSteps({index}, …)")
        hashes = [bytes(h) for h in params["stepHashes"]]
        if len(hashes) != int(log["args"]["stepCount"]):
            raise RevealNotFound(
                f"the reveal of batch {index} does not carry its {log['args']['stepCount']} hashes"
            )
        return hashes

    def challenges_resolved(
        self, from_block: int = 0, to_block: int | str = "latest"
    ) -> list[ChallengeResolved]:
        return [
            ChallengeResolved(
                int(log["args"]["batchIndex"]),
                str(log["args"]["challenger"]),
                Resolution(int(log["args"]["resolution"])),
                int(log["args"]["stepIndex"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
            )
            for log in self._logs("ChallengeResolved", from_block, to_block)
        ]

    def challenges_opened(
        self, from_block: int = 0, to_block: int | str = "latest", *, index: int | None = None
    ) -> list[Challenged]:
        """`Challenged` events in L1 order (only batch `index`'s when given)."""
        filters = {} if index is None else {"batchIndex": index}
        logs = self.contract.events["Challenged"]().get_logs(
            argument_filters=filters, from_block=from_block, to_block=cast(Any, to_block)
        )
        return [
            Challenged(
                int(log["args"]["batchIndex"]),
                str(log["args"]["challenger"]),
                int(log["args"]["revealDeadline"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
            )
            for log in sorted(logs, key=lambda entry: (entry["blockNumber"], entry["logIndex"]))
        ]

    def proposers_slashed(self, from_block: int = 0, to_block: int | str = "latest") -> list[ProposerSlashed]:
        return [
            ProposerSlashed(
                str(log["args"]["proposer"]),
                int(log["args"]["batchIndex"]),
                int(log["args"]["amount"]),
                int(log["args"]["toChallenger"]),
                int(log["args"]["burned"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
            )
            for log in self._logs("ProposerSlashed", from_block, to_block)
        ]

    # --- events --------------------------------------------------------------------------------

    def batches_appended(self, from_block: int = 0, to_block: int | str = "latest") -> list[BatchAppended]:
        out = []
        for log in self._logs("BatchAppended", from_block, to_block):
            a = log["args"]
            out.append(
                BatchAppended(
                    index=int(a["index"]),
                    proposer=str(a["proposer"]),
                    data_hash=bytes(a["dataHash"]),
                    prev_root=bytes(a["prevRoot"]),
                    post_root=bytes(a["postRoot"]),
                    trace_root=bytes(a["traceRoot"]),
                    deposit_count=int(a["depositCount"]),
                    deposit_rolling_hash=bytes(a["depositRollingHash"]),
                    l2_timestamp=int(a["l2Timestamp"]),
                    l1_timestamp=int(a["l1Timestamp"]),
                    tx_count=int(a["txCount"]),
                    tx_root=bytes(a["txRoot"]),
                    block_number=int(log["blockNumber"]),
                    tx_hash=bytes(log["transactionHash"]),
                    log_index=int(log["logIndex"]),
                )
            )
        return out

    def batches_finalized(self, from_block: int = 0, to_block: int | str = "latest") -> list[BatchFinalized]:
        return [
            BatchFinalized(
                int(log["args"]["index"]),
                bytes(log["args"]["postRoot"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
                int(log["logIndex"]),
            )
            for log in self._logs("BatchFinalized", from_block, to_block)
        ]

    def batches_deleted(self, from_block: int = 0, to_block: int | str = "latest") -> list[BatchDeleted]:
        return [
            BatchDeleted(
                int(log["args"]["index"]),
                bytes(log["args"]["postRoot"]),
                int(log["blockNumber"]),
                bytes(log["transactionHash"]),
                int(log["logIndex"]),
            )
            for log in self._logs("BatchDeleted", from_block, to_block)
        ]

    def batch_data(self, tx_hash: bytes) -> bytes:
        """The batch data of the `appendBatch` transaction `tx_hash` (sent straight to this contract)."""
        tx: Any = self.w3.eth.get_transaction(HexBytes(tx_hash))
        name, params = self.decode_call(bytes(tx["input"]))
        if name != "appendBatch":
            raise CalldataUndecodable(f"transaction 0x{bytes(tx_hash).hex()} calls {name}, not appendBatch")
        return bytes(params["batchData"])
