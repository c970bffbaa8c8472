"""Disputes: the L1 gas of a whole fraud proof (challenge, reveal, proof) by step kind, next to the
`appendBatch` gas of posting the batch honestly.

On an in-process chain (`bench.fraud_game.Chain`: the committed artifacts, the real one-step prover,
the Bridge) the scenario of `bench.fraud_scenario` runs: the Bridge deposits its first batch consumes,
then its three batches executed by `apply_batch`. For each representative step kind of a batch, the
batch is posted with that step's post-state root wrong (`tampered`), challenged, its steps revealed,
and proven wrong by `proveFraud` with the proof `protocol.fraud.find_fraud` builds; the proof must name
the tampered step and the batch must be rolled back (the proposer bonds again after each slash). Then
the honest batch is posted, its `appendBatch` receipt being the batch's posting cost, and the next
batch's disputes follow on top of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from web3.types import TxReceipt

from bench.fraud_game import Chain
from bench.fraud_scenario import Competition, representative_steps, tampered
from l1_contracts.bindings import UnlockedSender, append_batch_gas
from l1_contracts.bindings.prover import prove_step_gas
from l1_contracts.bindings.rollup import GAS_PER_DELETED_BATCH, GAS_PROVE_FRAUD_OVERHEAD
from protocol.codec import encode_batch
from protocol.fraud import StepProof, find_fraud
from protocol.hashing import merkle_root
from protocol.signing import Domain
from protocol.transition import BatchResult

QUICK_KINDS = ("deposit", "Transfer", "train chunk (first)")  # all in the first batch: seconds
DEPOSITOR = 5  # the chain's account that makes the Bridge deposits


@dataclass(frozen=True)
class Dispute:
    """One fraud proof of a step kind: its transactions' gas and what the proof showed."""

    batch: int  # the scenario's batch (1, 2 or 3)
    kind: str
    step: int  # the tampered step
    steps: int  # the trace's length (the step hashes revealed)
    proven_step: int  # the step `find_fraud`'s proof names
    deleted: bool  # the batch was rolled back by the proof
    witness_bytes: int
    challenge: int
    reveal: int
    proof: int
    posting: int  # `appendBatch` of the honest batch

    @property
    def total(self) -> int:
        """The whole dispute: challenge + revealSteps + proveFraud."""
        return self.challenge + self.reveal + self.proof


@dataclass(frozen=True)
class Disputes:
    rows: list[Dispute]
    seconds: float

    def problems(self) -> list[str]:
        """The disputes whose proof named another step, or did not roll the batch back."""
        out = []
        for d in self.rows:
            if d.proven_step != d.step:
                out.append(f"dispute {d.kind}: proof of step {d.proven_step}, step {d.step} was tampered")
            if not d.deleted:
                out.append(f"dispute {d.kind}: the batch was not rolled back")
        return out


def _post(
    chain: Chain, result: BatchResult, leaves: list[bytes] | None = None, post: bytes | None = None
) -> tuple[int, TxReceipt]:
    """Append `result`'s batch (with its honest roots unless `leaves` / `post` say otherwise)."""
    r = chain.rollup
    count = r.batch_count()
    before = r.get_batch(count - 1).deposit_count if count else 0
    data = encode_batch(result.context.timestamp, list(result.txs))
    receipt = r.append_batch(
        chain.proposer,
        data,
        result.pre_state.root,
        result.post_root if post is None else post,
        result.trace_root if leaves is None else merkle_root(leaves),
        before + len(result.deposits),
        gas=append_batch_gas(data),
    )
    return count, receipt


def _dispute(chain: Chain, result: BatchResult, batch: int, kind: str, step: int) -> Dispute:
    """Post `result` wrong at `step`, challenge, reveal, prove; `posting` is filled in by the caller."""
    r = chain.rollup
    leaves, post = tampered(result, step)
    index, _ = _post(chain, result, leaves, post)
    challenge = r.challenge(chain.challenger, index)
    reveal = r.reveal_steps(chain.proposer, index, leaves)
    proof = find_fraud(result, r.revealed_steps(index), r.get_batch(index).post_root)
    if not isinstance(proof, StepProof):
        raise RuntimeError(f"dispute {kind}: find_fraud gave {type(proof).__name__}, not a StepProof")
    gas = prove_step_gas(proof.witness_bytes) + GAS_PROVE_FRAUD_OVERHEAD + GAS_PER_DELETED_BATCH
    receipt = r.prove_fraud(chain.challenger, index, proof, gas=gas)
    deleted = r.batch_count() == index
    r.bond(chain.proposer)  # slashed: the (now honest) proposer stakes again
    return Dispute(
        batch,
        kind,
        step,
        len(leaves),
        proof.step_index,
        deleted,
        len(proof.witness_bytes),
        int(challenge["gasUsed"]),
        int(reveal["gasUsed"]),
        int(receipt["gasUsed"]),
        0,
    )


def run(kinds: Collection[str] | None = None, log: Callable[[str], object] = print) -> Disputes:
    """Every representative step kind of the scenario's batches (or only `kinds`), disputed in turn."""
    started = time.monotonic()
    chain = Chain()
    d = chain.deployment
    comp = Competition(Domain(d.chain_id, bytes.fromhex(d.rollup[2:])), chain.now())
    depositor = UnlockedSender(chain.w3.eth.accounts[DEPOSITOR])
    for recipient, amount in comp.funding():
        chain.bridge.deposit(depositor, recipient, amount)
    rows: list[Dispute] = []
    result = comp.batch1(chain.bridge.deposits_since(d.block_number))
    for batch in (1, 2, 3):
        if batch == 2:
            chain.advance(20)  # past the commit deadline
            result = comp.batch2(result.post_state, chain.now())
        elif batch == 3:
            chain.advance(comp.reveal_deadline - chain.now())
            result = comp.batch3(result.post_state, chain.now())
        disputes = []
        for kind, step in representative_steps(result):
            if kinds is None or kind in kinds:
                log(f"  dispute: batch {batch}, {kind} (step {step} of {len(result.steps)}) …")
                disputes.append(_dispute(chain, result, batch, kind, step))
        _, receipt = _post(chain, result)
        posting = int(receipt["gasUsed"])
        rows += [replace(row, posting=posting) for row in disputes]  # the honest batch's appendBatch
        if kinds is not None and {r.kind for r in rows} >= set(kinds):
            break
    return Disputes(rows, time.monotonic() - started)
