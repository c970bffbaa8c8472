"""The fraud game for the earliest wrong batch (docs/spec.md section 9), as a state machine over L1.

Each `DisputeGame.step` reads L1 (the truth: `getBatch`, `getChallenge`, the game's events) and the
database (what this verifier did), and sends at most the one transaction the situation calls for:

1. The batch is wrong and nobody challenged it: `challenge` with the bond while its window is open
   (a dispute row is written before the transaction, so that a restart knows it meant to).
   `AlreadyChallenged`: another verifier was first; its challenge is followed from then on.
2. Awaiting the reveal: wait; once L1's time passes the response deadline, `timeout` wins.
3. The proposer revealed: read the hashes back from the reveal's calldata, build the cheapest proof
   (`protocol.fraud.find_fraud` on the honest result) and send `proveFraud` or `proveBadLastStep` with
   an explicit gas limit. Anyone may send the proof (the Rollup pays the challenger), so a verifier
   also proves another challenger's dispute: a challenger that walks away cannot save a wrong batch.
   The proof lost to a faster one (`WrongChallengePhase`, `NoSuchBatch`) is not an error.
4. The dispute ended (`ChallengeResolved`): record the outcome, what it credited to us and the bond
   slashed; then `withdrawPayout` takes the credits (with `auto_withdraw`).

Only the earliest wrong batch is challenged: a win deletes it and every later batch. A batch that
builds on a wrong one (`OFF_CHAIN`) goes with it. After a restart nothing is sent twice: an open
challenge on L1 is followed whoever sent it, a dispute row whose challenge is not on L1 yet waits
while our account has a transaction pending, and an ended dispute is never reopened unless it was lost
(the window still open; at most `MAX_CHALLENGES` a batch).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes
from web3 import Web3

from l1_contracts.bindings.prover import prove_step_gas
from l1_contracts.bindings.rollup import (
    GAS_PER_DELETED_BATCH,
    GAS_PROVE_FRAUD_OVERHEAD,
    BatchInfo,
    BatchStatus,
    ChallengeInfo,
    ChallengePhase,
    ChallengeResolved,
    Resolution,
    Rollup,
)
from l1_contracts.bindings.tx import Sender
from l1_contracts.errors import (
    AlreadyChallenged,
    ChallengeWindowClosed,
    ContractRevert,
    DeadlineNotReached,
    DeadlinePassed,
    NoSuchBatch,
    NothingToWithdraw,
    WrongChallengePhase,
)
from protocol.derive import Derived
from protocol.errors import FraudProofError
from protocol.fraud import FraudProof, LastStepProof, StepProof, find_fraud
from verifier.core.metrics import Metrics
from verifier.db.models import BatchState, DisputePhase, DisputeRow, Outcome
from verifier.db.store import Store
from verifier.watcher import hx

log = logging.getLogger("verifier.game")

MAX_CHALLENGES = 3  # challenges of one posted batch: a lost one is retried while the window is open

OUTCOME_OF = {
    Resolution.FRAUD_PROVEN: Outcome.WON,
    Resolution.BAD_LAST_STEP: Outcome.WON,
    Resolution.REVEAL_TIMEOUT: Outcome.WON,
    Resolution.PROOF_TIMEOUT: Outcome.LOST,
    Resolution.BATCH_ROLLED_BACK: Outcome.ROLLED_BACK,
}
# proof_kind of a dispute for which no proof will be sent: we built one L1 refused, or none at all
PROOF_REFUSED = "refused"
PROOF_NONE = "none"


@dataclass(frozen=True, slots=True)
class GameParams:
    """The Rollup's game parameters (read once from the contract)."""

    challenge_window: int
    challenger_bond: int
    response_window: int
    proof_window: int

    @classmethod
    def of(cls, rollup: Rollup) -> GameParams:
        return cls(
            rollup.challenge_window(),
            rollup.challenger_bond(),
            rollup.response_window(),
            rollup.proof_window(),
        )


def proof_gas(proof: FraudProof, deleted: int) -> int | None:
    """The gas limit of the proof's transaction (None: the binding's own for `proveBadLastStep`):
    the one-step prover's gas for the witness, the game's overhead, and the rollback of `deleted`
    batches."""
    if isinstance(proof, LastStepProof):
        return None
    return prove_step_gas(proof.witness_bytes) + GAS_PROVE_FRAUD_OVERHEAD + GAS_PER_DELETED_BATCH * deleted


class DisputeGame:
    """Plays the fraud game for one Rollup from one account (`sender`; None: watch and report only)."""

    def __init__(
        self,
        rollup: Rollup,
        store: Store,
        sender: Sender | None,
        params: GameParams,
        *,
        metrics: Metrics | None = None,
        auto_withdraw: bool = True,
    ) -> None:
        self.rollup = rollup
        self.store = store
        self.sender = sender
        self.params = params
        self.metrics = metrics or Metrics()
        self.auto_withdraw = auto_withdraw
        self._said: set[tuple[bytes, str]] = set()  # notices logged once per batch
        self.pending_payout: int | None = None  # credited to us, not withdrawn, as last read

    @property
    def address(self) -> str | None:
        return None if self.sender is None else self.sender.address

    def step(self, target: Derived | None) -> None:
        """One move: record disputes that ended, play the one for `target` (the earliest wrong batch,
        or None), record again what that move ended, and withdraw the payouts."""
        self.resolve_ended()
        if target is not None and target.verdict.is_fraud:
            self.play(target, self._now())
            self.resolve_ended()
        if self.sender is not None and self.auto_withdraw:
            self.withdraw()

    # --- ends of disputes ------------------------------------------------------------------------------

    def resolve_ended(self) -> list[DisputeRow]:
        """Record the end of every dispute whose challenge L1 resolved; returns them."""
        ended = []
        for row in self.store.unresolved_disputes():
            if row.challenge_block is None:
                found = self._settle_intent(row)
                if found is None:
                    continue
                row = found
            event = self._resolution(row)
            if event is not None:
                ended.append(self._record_end(row, event))
        return ended

    def _settle_intent(self, row: DisputeRow) -> DisputeRow | None:
        """A challenge decided but not known to be on L1. While L1 holds the batch, `play` finishes it
        (it follows whatever challenge is open). Once L1 no longer does (another dispute deleted it),
        our challenge is looked for in the logs: found, the dispute goes on to its end (a rollback);
        not found, nothing was done and the row is forgotten."""
        judged = self.store.batch_by_tx(row.batch_tx_hash)
        if judged is None or judged.status == BatchState.LIVE:
            return None
        mine = [
            c
            for c in self.rollup.challenges_opened(judged.l1_block, index=row.batch_index)
            if self.address is not None and c.challenger.lower() == self.address.lower()
        ]
        if not mine:
            self.store.delete_dispute(row.id)
            return None
        return self.store.update_dispute(
            row.id,
            phase=DisputePhase.AWAITING_REVEAL,
            challenge_tx=mine[0].tx_hash,
            challenge_block=mine[0].block_number,
            reveal_deadline=mine[0].reveal_deadline,
        )

    def _resolution(self, row: DisputeRow) -> ChallengeResolved | None:
        assert row.challenge_block is not None
        for event in self.rollup.challenges_resolved(from_block=row.challenge_block):
            if event.index == row.batch_index:
                return event
        return None

    def _record_end(self, row: DisputeRow, event: ChallengeResolved) -> DisputeRow:
        outcome = OUTCOME_OF[event.resolution]
        if outcome == Outcome.LOST and row.proof_kind in (PROOF_REFUSED, PROOF_NONE):
            outcome = Outcome.UNPROVABLE
        slashed, reward = None, 0
        if outcome == Outcome.WON:
            for s in self.rollup.proposers_slashed(event.block_number, event.block_number):
                if s.index == row.batch_index and s.tx_hash == event.tx_hash:
                    slashed, reward = s.amount, s.to_challenger
        payout: int | None = None
        if row.ours:
            bond = self.params.challenger_bond
            payout = {Outcome.WON: bond + reward, Outcome.ROLLED_BACK: bond}.get(outcome, 0)
        row = self.store.update_dispute(
            row.id,
            phase=DisputePhase.RESOLVED,
            outcome=outcome,
            resolution=event.resolution.name.lower(),
            step_index=event.step_index,
            resolved_tx=event.tx_hash,
            resolved_block=event.block_number,
            payout=payout,
            slashed=slashed,
            resolved_at=time.time(),
        )
        self.metrics.challenges.labels(outcome).inc()
        by = "our" if row.proof_tx == event.tx_hash or row.timeout_tx == event.tx_hash else "another"
        log_at = log.warning if outcome in (Outcome.LOST, Outcome.UNPROVABLE) else log.info
        log_at(
            "batch %d dispute %s: %s at step %d in L1 tx %s (%s tx; challenger %s%s)%s%s",
            row.batch_index,
            outcome,
            event.resolution.name.lower(),
            event.step_index,
            hx(event.tx_hash),
            by,
            event.challenger,
            ", ours" if row.ours else "",
            "" if slashed is None else f"; proposer slashed {slashed} wei",
            "" if not payout else f"; {payout} wei credited to us",
        )
        return row

    # --- playing ---------------------------------------------------------------------------------------

    def play(self, target: Derived, now: int) -> None:
        """The move the wrong batch `target` calls for at L1 time `now`."""
        b = target.batch
        info = self._live(target)
        if info is None or info.status == BatchStatus.FINALIZED:
            return  # deleted (the watcher will see it) or final (too late for anyone)
        rows = self.store.disputes_for(b.l1_tx_hash)
        current = next((r for r in reversed(rows) if r.phase != DisputePhase.RESOLVED), None)
        challenge = self.rollup.get_challenge(b.index)
        if challenge.phase == ChallengePhase.NONE:
            if current is not None and current.challenge_block is not None:
                return  # ended on L1 after `resolve_ended` looked: recorded next step
            self._challenge(target, info, rows, current, now)
            return
        row = self._follow(target, challenge, current)
        if challenge.phase == ChallengePhase.AWAITING_REVEAL:
            self._await_reveal(target, challenge, row, now)
        else:
            self._prove(target, challenge, row, now)

    def _live(self, target: Derived) -> BatchInfo | None:
        """L1's record of the batch `target` judged, or None when L1 no longer holds that batch."""
        b = target.batch
        try:
            info = self.rollup.get_batch(b.index)
        except NoSuchBatch:
            return None
        same = (
            info.data_hash == b.data_hash
            and info.post_root == b.post_root
            and info.trace_root == b.trace_root
            and info.l1_timestamp == b.l1_timestamp
            and info.proposer.lower() == b.proposer.lower()
        )
        return info if same and info.status != BatchStatus.DELETED else None

    def _challenge(
        self, target: Derived, info: BatchInfo, rows: list[DisputeRow], current: DisputeRow | None, now: int
    ) -> None:
        b = target.batch
        ended = [r for r in rows if r.phase == DisputePhase.RESOLVED]
        if any(r.outcome in (Outcome.MISSED, Outcome.UNPROVABLE) for r in ended):
            return
        if len(ended) >= MAX_CHALLENGES:
            self._once(
                b.l1_tx_hash,
                "max",
                "batch %d: lost %d challenges, not challenging again",
                b.index,
                len(ended),
            )
            return
        closes = info.l1_timestamp + self.params.challenge_window
        if now + 1 >= closes:  # the next block is at least a second later
            self._missed(target, current, closes)
            return
        if self.sender is None:
            self._once(
                b.l1_tx_hash,
                "watch",
                "batch %d is wrong but no challenger key is set: watching only",
                b.index,
            )
            return
        if self._tx_pending():
            return  # a challenge of ours may be waiting to be mined: never send a second
        row = current or self.store.open_dispute(
            batch_index=b.index,
            batch_tx_hash=b.l1_tx_hash,
            verdict=target.verdict.value,
            challenger=self.address,
            ours=True,
            phase=DisputePhase.CHALLENGING,
        )
        try:
            receipt = self.rollup.challenge(self.sender, b.index, value=self.params.challenger_bond)
        except AlreadyChallenged:
            log.info("batch %d: another challenger was first; following its challenge", b.index)
            return
        except ChallengeWindowClosed:
            self._missed(target, row, closes)
            return
        except (NoSuchBatch, WrongChallengePhase):
            return  # deleted meanwhile
        gas = int(receipt["gasUsed"])
        deadline = self.rollup.get_challenge(b.index).deadline
        self.store.update_dispute(
            row.id,
            phase=DisputePhase.AWAITING_REVEAL,
            challenger=self.address,
            ours=True,
            challenge_tx=bytes(receipt["transactionHash"]),
            challenge_block=int(receipt["blockNumber"]),
            challenge_gas=gas,
            reveal_deadline=deadline,
        )
        self.metrics.l1_gas.labels("challenge").inc(gas)
        log.info(
            "batch %d challenged in L1 tx %s (%d gas, bond %d wei); reveal deadline %d",
            b.index,
            hx(bytes(receipt["transactionHash"])),
            gas,
            self.params.challenger_bond,
            deadline,
        )

    def _missed(self, target: Derived, current: DisputeRow | None, closes: int) -> None:
        b = target.batch
        note = f"the challenge window closed at {closes} before a challenge"
        fields: dict[str, Any] = {
            "phase": DisputePhase.RESOLVED,
            "outcome": Outcome.MISSED,
            "note": note,
            "resolved_at": time.time(),
        }
        if current is None:
            self.store.open_dispute(
                batch_index=b.index,
                batch_tx_hash=b.l1_tx_hash,
                verdict=target.verdict.value,
                ours=False,
                **fields,
            )
        else:
            self.store.update_dispute(current.id, **fields)
        self.metrics.challenges.labels(Outcome.MISSED).inc()
        log.error("batch %d dispute missed: it is wrong but %s", b.index, note)

    def _tx_pending(self) -> bool:
        """Whether our account has a transaction sent but not mined (one whose receipt we stopped
        waiting for, or sent before a restart): the next move waits for it rather than repeat it."""
        assert self.address is not None
        eth = self.rollup.w3.eth
        account = Web3.to_checksum_address(self.address)
        return int(eth.get_transaction_count(account, "pending")) > int(
            eth.get_transaction_count(account, "latest")
        )

    def _follow(self, target: Derived, challenge: ChallengeInfo, current: DisputeRow | None) -> DisputeRow:
        """The dispute row of the challenge open on L1: ours as recorded, or one written now for a
        challenge by another verifier (or ours, mined after we were stopped before recording it)."""
        if current is not None and current.challenge_block is not None:
            return current
        b = target.batch
        opened = self.rollup.challenges_opened(b.l1_block, index=b.index)
        ours = self.address is not None and challenge.challenger.lower() == self.address.lower()
        fields: dict[str, Any] = {
            "challenger": challenge.challenger,
            "ours": ours,
            "phase": DisputePhase.AWAITING_REVEAL,
            "challenge_block": opened[-1].block_number if opened else b.l1_block,
            "challenge_tx": opened[-1].tx_hash if opened else None,
            "reveal_deadline": opened[-1].reveal_deadline if opened else None,
        }
        if ours and opened:
            gas = int(self.rollup.w3.eth.get_transaction_receipt(HexBytes(opened[-1].tx_hash))["gasUsed"])
            fields["challenge_gas"] = gas
            self.metrics.l1_gas.labels("challenge").inc(gas)
        if current is None:
            row = self.store.open_dispute(
                batch_index=b.index, batch_tx_hash=b.l1_tx_hash, verdict=target.verdict.value, **fields
            )
        else:
            row = self.store.update_dispute(current.id, **fields)
        if ours:
            log.info(
                "batch %d: our challenge is on L1 (tx %s); resuming it", b.index, hx(fields["challenge_tx"])
            )
        else:
            log.info(
                "batch %d challenged by %s in L1 tx %s; following that dispute",
                b.index,
                challenge.challenger,
                hx(fields["challenge_tx"]),
            )
        return row

    def _await_reveal(self, target: Derived, challenge: ChallengeInfo, row: DisputeRow, now: int) -> None:
        if now < challenge.deadline or self.sender is None or row.timeout_tx is not None:
            return
        if self._tx_pending():
            return  # our timeout (or another tx) is not mined yet
        b = target.batch
        try:
            receipt = self.rollup.settle_timeout(self.sender, b.index)
        except (WrongChallengePhase, DeadlineNotReached, NoSuchBatch):
            return  # revealed or settled meanwhile, or not quite late enough: next step
        gas = int(receipt["gasUsed"])
        self.store.update_dispute(row.id, timeout_tx=bytes(receipt["transactionHash"]), timeout_gas=gas)
        self.metrics.l1_gas.labels("timeout").inc(gas)
        log.info(
            "batch %d: no reveal by the deadline %d; timeout sent in L1 tx %s (%d gas)",
            b.index,
            challenge.deadline,
            hx(bytes(receipt["transactionHash"])),
            gas,
        )

    def _prove(self, target: Derived, challenge: ChallengeInfo, row: DisputeRow, now: int) -> None:
        b = target.batch
        if row.phase != DisputePhase.AWAITING_PROOF:
            row = self.store.update_dispute(
                row.id,
                phase=DisputePhase.AWAITING_PROOF,
                revealed_steps=challenge.step_count,
                proof_deadline=challenge.deadline,
            )
            log.info(
                "batch %d revealed: %d step hashes; proof deadline %d",
                b.index,
                challenge.step_count,
                challenge.deadline,
            )
        if row.proof_tx is not None or row.proof_kind in (PROOF_REFUSED, PROOF_NONE) or self.sender is None:
            return
        if now + 1 >= challenge.deadline:
            self._once(
                b.l1_tx_hash,
                "late",
                "batch %d: the proof deadline %d has passed",
                b.index,
                challenge.deadline,
            )
            return
        if target.result is None:
            self._give_up(row, PROOF_NONE, f"the batch data is not available ({target.reason}): no proof")
            return
        assert row.challenge_block is not None
        revealed = self.rollup.revealed_steps(b.index, from_block=row.challenge_block)
        try:
            proof = find_fraud(target.result, revealed, b.post_root)
        except FraudProofError as exc:
            self._give_up(row, PROOF_NONE, f"no proof from the revealed trace: {exc}")
            return
        if proof is None:
            self._give_up(row, PROOF_NONE, "the revealed trace agrees with the honest execution")
            return
        if self._tx_pending():
            return  # a proof of ours that timed out waiting for its receipt may still be mined
        deleted = max(1, self.rollup.batch_count() - b.index)
        kind = "last_step" if isinstance(proof, LastStepProof) else "step"
        try:
            receipt = self.rollup.prove(self.sender, b.index, proof, gas=proof_gas(proof, deleted))
        except (WrongChallengePhase, NoSuchBatch):
            log.info("batch %d: another verifier's proof came first", b.index)
            return
        except DeadlinePassed:
            return
        except ContractRevert as exc:
            self._give_up(row, PROOF_REFUSED, f"the Rollup refused our {kind} proof: {exc}")
            return
        gas = int(receipt["gasUsed"])
        self.store.update_dispute(
            row.id, proof_kind=kind, proof_tx=bytes(receipt["transactionHash"]), proof_gas=gas
        )
        self.metrics.l1_gas.labels("proof").inc(gas)
        what = (
            f"proveFraud of step {proof.step_index}" if isinstance(proof, StepProof) else "proveBadLastStep"
        )
        log.info(
            "batch %d proof sent: %s in L1 tx %s (%d gas)",
            b.index,
            what,
            hx(bytes(receipt["transactionHash"])),
            gas,
        )

    def _give_up(self, row: DisputeRow, kind: str, note: str) -> None:
        """No proof will be sent for this dispute (a bug in someone's execution, or missing data)."""
        self.store.update_dispute(row.id, proof_kind=kind, note=note)
        log.error("batch %d: %s", row.batch_index, note)

    # --- payouts -----------------------------------------------------------------------------------------

    def withdraw(self) -> int:
        """Take what the game credited to us; returns the wei withdrawn."""
        assert self.sender is not None
        amount = self.rollup.payout_of(self.sender.address)
        self.pending_payout = amount
        self.metrics.payout_pending_wei.set(amount)
        if amount == 0:
            return 0
        try:
            receipt = self.rollup.withdraw_payout(self.sender)
        except NothingToWithdraw:
            return 0
        gas = int(receipt["gasUsed"])
        tx = bytes(receipt["transactionHash"])
        self.store.record_payout(tx, amount, gas)
        self.metrics.l1_gas.labels("withdraw").inc(gas)
        self.metrics.payouts_wei.inc(amount)
        self.metrics.payout_pending_wei.set(0)
        self.pending_payout = 0
        log.info("payout withdrawn: %d wei in L1 tx %s (%d gas)", amount, hx(tx), gas)
        return amount

    # --- helpers -------------------------------------------------------------------------------------------

    def _now(self) -> int:
        """L1's time: the latest block's timestamp (the windows run on it, not on our clock)."""
        return int(self.rollup.w3.eth.get_block("latest")["timestamp"])

    def _once(self, key: bytes, what: str, message: str, *args: Any) -> None:
        if (key, what) not in self._said:
            self._said.add((key, what))
            log.warning(message, *args)
