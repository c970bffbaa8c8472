"""A chain with a Bridge and the one-step prover, and the cross-check of one step (Solidity vs Python).

`ProverEnv.check(result, step)` builds the witness of step `step` of an executed batch, runs
`OneStepProver.proveStep` on it and asserts that the pre and post step hashes equal Python's
(`StepWitness.pre_step_hash`, `reexecute(...).step_hash`) and the trace's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from web3 import Web3
from web3.contract import Contract

from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings import Bridge, UnlockedSender, transact
from l1_contracts.bindings.prover import OneStepProver, StepContext, deploy_prover
from l1_contracts.bindings.tx import call_view
from protocol.deposits import Deposit
from protocol.fees import FeeSchedule
from protocol.keys import META_KEY
from protocol.records import Meta
from protocol.signing import Domain
from protocol.state import State
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.witness import StepWitness, build_witness, encode_witness, reexecute
from tests.support.fees import FEES
from tests.support.l1 import make_w3

CALL_GAS = 30_000_000


def deploy_artifact(w3: Web3, sender: UnlockedSender, name: str, gas: int = 6_000_000) -> Contract:
    """Deploy a no-argument contract of the artifacts; returns the web3 contract."""
    artifact = load_artifact(name)
    receipt = transact(w3, sender, to=None, data=bytes.fromhex(artifact.bytecode[2:]), gas=gas)
    address = Web3.to_checksum_address(str(receipt["contractAddress"]))
    return w3.eth.contract(address=address, abi=artifact.abi)


@dataclass
class ProverEnv:
    """One chain: a Bridge whose queue the tests fill, the prover, and the test harnesses."""

    w3: Web3 = field(init=False)
    owner: UnlockedSender = field(init=False)
    bridge: Bridge = field(init=False)
    prover: OneStepProver = field(init=False)
    codec: Contract = field(init=False)
    tx_harness: Contract = field(init=False)
    tensor_harness: Contract = field(init=False)
    queue: list[Deposit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.w3, _ = make_w3()
        self.owner = UnlockedSender(self.w3.eth.accounts[0])
        bridge = deploy_artifact(self.w3, self.owner, "Bridge", 2_000_000)
        self.bridge = Bridge(self.w3, bridge.address)
        self.prover = OneStepProver(self.w3, deploy_prover(self.w3, self.owner, self.bridge.address))
        self.codec = deploy_artifact(self.w3, self.owner, "ProverCodecHarness")
        self.tx_harness = deploy_artifact(self.w3, self.owner, "ProverTxHarness")
        self.tensor_harness = deploy_artifact(self.w3, self.owner, "ProverTensorTxHarness")

    def deposit(self, recipient: bytes, amount: int) -> Deposit:
        """Append a deposit to the Bridge's queue; returns it as `protocol` sees it."""
        self.bridge.deposit(self.owner, recipient, amount)
        d = Deposit(len(self.queue), recipient, amount)
        self.queue.append(d)
        return d

    def context(
        self, witness: StepWitness, domain: Domain, deposit_start: int, fees: FeeSchedule = FEES
    ) -> StepContext:
        """The context the Rollup would pass for the witness's batch (a deployment charging `fees`)."""
        return StepContext(
            domain.separator,
            witness.header.data_hash,
            deposit_start,
            deposit_start + witness.deposit_count,
            self.bridge.address,
            fees.price,
            fees.recipient,
        )

    def prove(
        self, witness: StepWitness, domain: Domain, deposit_start: int, fees: FeeSchedule = FEES
    ) -> tuple[bytes, bytes]:
        """`proveStep` on the canonical bytes of `witness`."""
        ctx = self.context(witness, domain, deposit_start, fees)
        return self.prover.prove_step(ctx, encode_witness(witness), gas=CALL_GAS)

    def check(self, result: BatchResult, step: int, domain: Domain, deposit_start: int = 0) -> bytes:
        """Assert Solidity's step hashes equal Python's (and the trace's), under the fee schedule the
        batch ran with; returns the post step hash."""
        witness = build_witness(result, step)
        fees = result.context.fees
        pre, post = self.prove(witness, domain, deposit_start, fees)
        expected = reexecute(witness, domain, fees).step_hash
        assert pre == witness.pre_step_hash, f"step {step}: pre step hash differs"
        assert post == expected == result.steps[step].hash, f"step {step}: post step hash differs"
        return post

    def check_all(self, result: BatchResult, domain: Domain, deposit_start: int = 0) -> None:
        """`check` every step of a batch."""
        for step in range(len(result.steps)):
            self.check(result, step, domain, deposit_start)

    def tx_reason(self, witness: StepWitness, domain: Domain, fees: FeeSchedule = FEES) -> int:
        """The receipt reason the Solidity tx executors give a tx step (harness only)."""
        assert witness.tx is not None
        raw = witness.tx.raw
        harness = self.tensor_harness if raw[:1] in (b"\x05", b"\x06", b"\x09") else self.tx_harness
        ctx = self.context(witness, domain, 0, fees).as_tuple()
        fn = harness.functions.executeWithReason(ctx, encode_witness(witness))
        _, reason = call_view(_Gas(fn))
        return int(reason)


class _Gas:
    def __init__(self, fn: object) -> None:
        self.fn = fn

    def call(self) -> object:
        return self.fn.call({"gas": CALL_GAS})  # type: ignore[attr-defined]


def state_with_deposit_count(state: State, count: int) -> State:
    """`state` with `meta.depositCount = count` (the other counters kept), so a batch can continue
    the Bridge's queue at `count`."""
    meta = state.meta()
    meta = Meta(count, meta.next_task_id, meta.next_model_id, meta.next_withdrawal_id)
    return State(state.tree.set(META_KEY, meta.encode()))


def run_batch(
    env: ProverEnv,
    state: State,
    txs: Sequence[bytes],
    domain: Domain,
    timestamp: int,
    deposits: Sequence[tuple[bytes, int]] = (),
) -> tuple[BatchResult, int]:
    """Execute a batch whose deposits are appended to the Bridge now; returns it and its deposit start."""
    start = len(env.queue)
    if deposits:
        state = state_with_deposit_count(state, start)
    queued = [env.deposit(recipient, amount) for recipient, amount in deposits]
    return apply_batch(state, queued, txs, BatchContext(domain, FEES, timestamp)), start
