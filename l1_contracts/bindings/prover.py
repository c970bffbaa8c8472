"""Deployment and typed binding of the L1 one-step prover (`l1_contracts/src/prover/`).

```
prover = OneStepProver(w3, deploy_prover(w3, sender, bridge.address))
ctx = StepContext(domain.separator, data_hash, start, end, bridge.address, fees.price, fees.recipient)
pre, post = prover.prove_step(ctx, encode_witness(build_witness(result, step)))
```

`proveStep` returns the trace leaf before the step and the one after it (`NO_STEP` for a finished
machine), as `protocol.witness.reexecute` computes them. A witness that is inconsistent or not bound to
the batch reverts with a `l1_contracts.errors.ProverRevert` subclass (or `MalformedSmtProof` /
`SmtRootMismatch` for a bad proof).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.types import TxReceipt

from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings.tx import BoundContract, Sender, call_view, transact
from l1_contracts.errors import DeploymentError
from protocol.witness import NO_STEP

__all__ = [
    "GAS_DEPLOY",
    "MAX_PROVE_STEP_GAS",
    "NO_STEP",
    "OneStepProver",
    "StepContext",
    "deploy_prover",
    "prove_step_gas",
]

# Creation gas per contract, with a margin (measured on py-evm: TxProver 3.11M, TensorTxProver 3.25M,
# JobProver 2.60M, OneStepProver 0.98M; most of it is 200 gas a byte of runtime code).
GAS_DEPLOY: dict[str, int] = {
    "TxProver": 3_600_000,
    "TensorTxProver": 3_800_000,
    "JobProver": 3_200_000,
    "OneStepProver": 1_400_000,
}


@dataclass(frozen=True, slots=True)
class StepContext:
    """What the Rollup knows of a step's batch (`IOneStepProver.StepContext`)."""

    domain_separator: bytes  # EIP-712 domain of L2 txs (`protocol.signing.Domain.separator`)
    batch_data_hash: bytes  # H(u8 version ‖ u64 timestamp ‖ u32 txCount ‖ txRoot)
    deposit_start: int  # cumulative deposits consumed before the batch
    deposit_end: int  # cumulative deposits consumed after it
    bridge: str  # the Bridge's address
    fee_price: int  # wei a fee unit (`protocol.fees.FeeSchedule.price`, the Rollup's `feePrice`)
    fee_recipient: bytes  # the L2 address credited with every fee (20 bytes)

    def as_tuple(self) -> tuple[bytes, bytes, int, int, str, int, str]:
        """The ABI tuple `(bytes32, bytes32, uint64, uint64, address, uint64, address)`."""
        return (
            self.domain_separator,
            self.batch_data_hash,
            self.deposit_start,
            self.deposit_end,
            to_checksum_address(self.bridge),
            self.fee_price,
            to_checksum_address(self.fee_recipient),
        )


# Offset of the job kind byte in the witness bytes (docs/spec.md section 8): after u32 stepIndex, the
# 45-byte header, u64 depositCount, b32 preRoot and u32 preCursor.
_JOB_KIND_OFFSET = 4 + 45 + 8 + 32 + 4
_SCORE_JOB = 1
MAX_PROVE_STEP_GAS = (1 << 24) - 1  # EIP-7825's cap on one transaction's gas


def prove_step_gas(witness: bytes) -> int:
    """A gas limit that covers `proveStep` of `witness` (canonical bytes) with a margin.

    Measured at the largest step sizes (docs/results.md, `python -m bench.prover_gas`): at most 66 gas a
    witness byte plus 1.3M for every step but a scoring chunk, whose multiply-accumulates (at most
    MAX_STEP_MACS, about 340 gas each with their rows) are not visible in its size. The limit allows
    about 40% more, below EIP-7825's 2^24 cap: every step of the protocol needs less than 8M.
    """
    scoring = len(witness) > _JOB_KIND_OFFSET and witness[_JOB_KIND_OFFSET] == _SCORE_JOB
    return min(MAX_PROVE_STEP_GAS, 2_000_000 + 90 * len(witness) + (6_000_000 if scoring else 0))


def deploy_prover(w3: Web3, sender: Sender, bridge_address: str) -> str:
    """Deploy the executors and the `OneStepProver` that routes to them, wired to `bridge_address`
    (whose deposit queue `StepContext.bridge` must name); returns the dispatcher's address, which
    the Rollup is given. Four transactions from `sender`, each with an explicit gas limit."""
    bridge = to_checksum_address(bridge_address)
    if not w3.eth.get_code(bridge):
        raise DeploymentError(f"no contract at the Bridge address {bridge}: deploy the Bridge first")
    executors = [_deploy(w3, sender, name, b"") for name in ("TxProver", "TensorTxProver", "JobProver")]
    args = abi_encode(["address", "address", "address", "address"], [bridge, *executors])
    return _deploy(w3, sender, "OneStepProver", args)


def _deploy(w3: Web3, sender: Sender, name: str, args: bytes) -> str:
    code = bytes.fromhex(load_artifact(name).bytecode[2:]) + args
    receipt = transact(w3, sender, to=None, data=code, gas=GAS_DEPLOY[name])
    address = receipt.get("contractAddress")
    if not address:
        raise DeploymentError(f"deploying {name} created no contract")
    return to_checksum_address(str(address))


class OneStepProver(BoundContract):
    """The deployed `OneStepProver` (the dispatcher; `deploy_prover` returns its address)."""

    ARTIFACT = "OneStepProver"

    def prove_step(self, ctx: StepContext, witness: bytes, *, gas: int | None = None) -> tuple[bytes, bytes]:
        """`proveStep(ctx, witness)` as an `eth_call` with an explicit gas limit: `(preStepHash,
        postStepHash)`. Reverts raise the `ProverRevert` subclass of the custom error."""
        limit = gas if gas is not None else prove_step_gas(witness)
        fn = self.contract.functions.proveStep(ctx.as_tuple(), witness)
        pre, post = call_view(_WithGas(fn, limit))
        return bytes(pre), bytes(post)

    def no_step(self) -> bytes:
        """The contract's `NO_STEP` (equal to `protocol.witness.NO_STEP`)."""
        return bytes(self._call("NO_STEP"))

    def executors(self) -> tuple[str, str, str]:
        """The addresses of `TxProver`, `TensorTxProver` and `JobProver`."""
        return (str(self._call("txProver")), str(self._call("tensorTxProver")), str(self._call("jobProver")))

    def prove_step_calldata(self, ctx: StepContext, witness: bytes) -> bytes:
        """The ABI call data of `proveStep(ctx, witness)` (for gas measurements and forwarding)."""
        return bytes.fromhex(self.contract.encode_abi("proveStep", args=[ctx.as_tuple(), witness])[2:])

    def send_prove_step(self, sender: Sender, ctx: StepContext, witness: bytes, *, gas: int) -> TxReceipt:
        """`proveStep` as a mined transaction (to measure a receipt's gas; it changes nothing)."""
        return transact(
            self.w3, sender, to=self.address, data=self.prove_step_calldata(ctx, witness), gas=gas
        )


class _WithGas:
    """`fn.call()` with an explicit gas limit, in the shape `call_view` expects."""

    def __init__(self, fn: Any, gas: int) -> None:
        self._fn = fn
        self._gas = gas

    def call(self) -> Any:
        return self._fn.call({"gas": self._gas})
