"""Typed errors of the l1_contracts package. `L1Error` is the root of all of them.

Solidity twins: `l1_contracts/src/Errors.sol` (`CUSTOM_ERRORS`) and `src/prover/ProverErrors.sol`
(`PROVER_ERRORS`).
"""


class L1Error(Exception):
    """Root of every error the l1_contracts package raises."""


class BuildError(L1Error):
    """The Solidity sources do not compile, or the toolchain (node, npm solc) is missing."""


class DevnetError(L1Error):
    """The embedded py-evm devnet could not be set up, started or served."""


class DevnetConfigError(DevnetError):
    """A devnet setting is out of range (host, port, chain id, block gas limit, accounts, balance)."""


class PortInUseError(DevnetError):
    """The devnet's TCP port is already taken by another process."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        super().__init__(
            f"cannot serve the devnet on {host}:{port}: the port is already in use. Stop the process "
            f"that holds it (`lsof -i :{port}` shows it), or pick another port with `--port N` "
            "(`--port 0` picks a free one)."
        )


class DevnetRpcError(DevnetError):
    """A JSON-RPC error answer of the devnet: `code`, `message` and, for a revert, `data` (0x-hex)."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        super().__init__(f"JSON-RPC error {code}: {message}" + (f" (data {data})" if data else ""))


# --- reverts of the Rollup and the Bridge (l1_contracts.bindings) ---------------------------------


class ContractRevert(L1Error):
    """A call or transaction to a contract reverted.

    `error_name` is the custom error's name (`""` when the revert data matches no known error, e.g. an
    out-of-gas or a plain `revert()`), `error_args` its decoded arguments by name, `data` the raw revert
    data, `tx_hash` the mined transaction's hash when it was one. Reverts with a custom error of
    `src/Errors.sol` raise the subclass of the same name (`NotFinalized`, `AlreadyClaimed`, …).
    """

    def __init__(
        self,
        error_name: str,
        error_args: dict[str, object] | None = None,
        data: bytes = b"",
        tx_hash: bytes | None = None,
        message: str | None = None,
    ) -> None:
        self.error_name = error_name
        self.error_args = dict(error_args or {})
        self.data = data
        self.tx_hash = tx_hash
        if message is None:
            args = ", ".join(f"{k}={_show(v)}" for k, v in self.error_args.items())
            message = f"reverted with {error_name}({args})" if error_name else "reverted"
            if not error_name and data:
                message += f" (data 0x{data.hex()})"
        if tx_hash is not None:
            message += f" in transaction 0x{tx_hash.hex()}"
        super().__init__(message)


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value)


class RevertWithReason(ContractRevert):
    """The contract reverted with `Error(string)` (a `require` message)."""


class RevertWithPanic(ContractRevert):
    """The contract reverted with `Panic(uint256)` (an assertion, overflow, division by zero…)."""


class TransactionReverted(ContractRevert):
    """A mined transaction has status 0 and replaying it gave no revert data (e.g. out of gas)."""


class TransactionTimeout(L1Error):
    """A transaction was sent but its receipt did not arrive in time."""


class DeploymentError(L1Error):
    """A deployment transaction did not create a contract, or a deployment file is unreadable."""


class CalldataUndecodable(L1Error):
    """The input of a transaction to one of our contracts is not a call of one of its functions."""


# One class per custom error of l1_contracts/src/Errors.sol (tests/l1 check the two lists agree).
class ZeroAddress(ContractRevert):
    """A constructor or setter was given the zero address."""


class TransferFailed(ContractRevert):
    """An ETH transfer out of a contract failed."""


class MalformedSmtProof(ContractRevert):
    """Sparse Merkle proof bytes that are not one canonical encoding for the key."""


class SmtRootMismatch(ContractRevert):
    """A sparse Merkle proof does not show the claimed old value under the root."""


class BatchTruncated(ContractRevert):
    """Batch data ends inside its header, a length prefix or a tx."""


class BatchVersion(ContractRevert):
    """Batch data with an unknown version byte."""


class BatchTooManyTxs(ContractRevert):
    """Batch data counting more than MAX_BATCH_TXS txs."""


class BatchTxTooLong(ContractRevert):
    """A tx in batch data longer than MAX_TX_BYTES."""


class BatchTrailingBytes(ContractRevert):
    """Bytes after the last tx of batch data."""


class NotDeployer(ContractRevert):
    """`setRollup` by someone other than the Bridge's deployer."""


class RollupAlreadySet(ContractRevert):
    """`setRollup` a second time."""


class RollupBridgeMismatch(ContractRevert):
    """`setRollup` with a Rollup built on another Bridge."""


class RollupNotSet(ContractRevert):
    """A withdrawal claim before the Bridge was wired to its Rollup."""


class ZeroDeposit(ContractRevert):
    """A deposit of zero wei."""


class DepositTooLarge(ContractRevert):
    """A deposit above 2^128 - 1 wei."""


class DepositOutOfRange(ContractRevert):
    """A deposit index or count past the Bridge's queue."""


class NotFinalized(ContractRevert):
    """A withdrawal claimed against a batch that is not final."""


class AlreadyClaimed(ContractRevert):
    """A withdrawal claimed a second time."""


class InvalidProof(ContractRevert):
    """A withdrawal proof that does not match the finalized state root."""


class InvalidParameter(ContractRevert):
    """A Rollup constructor parameter out of range."""


class WrongBondAmount(ContractRevert):
    """`bond()` with a value other than the required bond."""


class AlreadyBonded(ContractRevert):
    """`bond()` by a proposer that already has a bond."""


class NotBonded(ContractRevert):
    """A batch or unbond from an address without a bond."""


class NotDirectCall(ContractRevert):
    """`appendBatch` relayed by a contract (or an EOA with delegated code): batch data must be the
    transaction's own calldata, where verifiers read it back. Send it from the proposer's key."""


class BondLocked(ContractRevert):
    """`unbond()` while some of the proposer's batches are not final."""


class PrevRootMismatch(ContractRevert):
    """A batch whose prevRoot is not the last batch's post root."""


class DepositCountDecreased(ContractRevert):
    """A batch whose cumulative deposit count is below the previous batch's."""


class DepositCountTooHigh(ContractRevert):
    """A batch consuming more deposits than the Bridge holds."""


class TimestampDecreased(ContractRevert):
    """A batch whose L2 timestamp is before the previous batch's."""


class TimestampInFuture(ContractRevert):
    """A batch whose L2 timestamp is after the L1 block's."""


class EmptyBatch(ContractRevert):
    """A batch with no txs and no new deposits."""


class NoSuchBatch(ContractRevert):
    """A batch index at or past the batch count."""


class BatchNotFinalized(ContractRevert):
    """`finalizedRoot` of a batch that is not final."""


class WrongChallengerBond(ContractRevert):
    """`challenge` with a value other than the challenger bond (`Rollup.challenger_bond()`)."""


class AlreadyChallenged(ContractRevert):
    """`challenge` of a batch that already has an open challenge: wait for it to resolve."""


class ChallengeWindowClosed(ContractRevert):
    """`challenge` after the batch's challenge window closed (it can finalize)."""


class WrongChallengePhase(ContractRevert):
    """A game call that does not fit the batch's challenge phase (0 none, 1 reveal due, 2 proof due)."""


class DeadlinePassed(ContractRevert):
    """A reveal or proof after its deadline: only `timeout` is left."""


class DeadlineNotReached(ContractRevert):
    """`timeout` before the current phase's deadline."""


class NotBatchProposer(ContractRevert):
    """`revealSteps` by someone other than the batch's proposer (only it answers for its trace)."""


class EmptyTrace(ContractRevert):
    """`revealSteps` with no step hash (every batch has a step)."""


class TooManySteps(ContractRevert):
    """`revealSteps` with more hashes than a challenge can record (2^24 - 1)."""


class TraceRootMismatch(ContractRevert):
    """Revealed step hashes whose list root is not the batch's trace root."""


class StepOutOfRange(ContractRevert):
    """`proveFraud` of a step at or past the revealed step count."""


class InvalidStepProof(ContractRevert):
    """A trace leaf's list proof does not match the trace root at the revealed count."""


class PreStepMismatch(ContractRevert):
    """The witness does not start from the trace leaf before the step."""


class StepCorrect(ContractRevert):
    """`proveFraud` of a step that re-executes to the claimed leaf: there is no fraud in it."""


class HeaderMismatch(ContractRevert):
    """Batch header fields that do not hash to the stored batch data hash."""


class LastStepCorrect(ContractRevert):
    """`proveBadLastStep` of a trace that does end in the batch's post root."""


class NothingToWithdraw(ContractRevert):
    """`withdrawPayout` (or the competition twin's `withdrawCredit`) with nothing credited to `account`,
    the caller."""


CUSTOM_ERRORS: dict[str, type[ContractRevert]] = {
    cls.__name__: cls
    for cls in (
        ZeroAddress,
        TransferFailed,
        MalformedSmtProof,
        SmtRootMismatch,
        BatchTruncated,
        BatchVersion,
        BatchTooManyTxs,
        BatchTxTooLong,
        BatchTrailingBytes,
        NotDeployer,
        RollupAlreadySet,
        RollupBridgeMismatch,
        RollupNotSet,
        ZeroDeposit,
        DepositTooLarge,
        DepositOutOfRange,
        NotFinalized,
        AlreadyClaimed,
        InvalidProof,
        InvalidParameter,
        WrongBondAmount,
        AlreadyBonded,
        NotBonded,
        NotDirectCall,
        BondLocked,
        PrevRootMismatch,
        DepositCountDecreased,
        DepositCountTooHigh,
        TimestampDecreased,
        TimestampInFuture,
        EmptyBatch,
        NoSuchBatch,
        BatchNotFinalized,
        WrongChallengerBond,
        AlreadyChallenged,
        ChallengeWindowClosed,
        WrongChallengePhase,
        DeadlinePassed,
        DeadlineNotReached,
        NotBatchProposer,
        EmptyTrace,
        TooManySteps,
        TraceRootMismatch,
        StepOutOfRange,
        InvalidStepProof,
        PreStepMismatch,
        StepCorrect,
        HeaderMismatch,
        LastStepCorrect,
        NothingToWithdraw,
    )
}


# --- reverts of the one-step prover (l1_contracts/src/prover/ProverErrors.sol) --------------------
# Kept apart from CUSTOM_ERRORS (which mirrors src/Errors.sol exactly); the prover binding
# (`l1_contracts.bindings.prover`) raises these. A witness that makes the prover revert proves nothing.


class ProverRevert(ContractRevert):
    """Root of the one-step prover's reverts: the witness is inconsistent or not bound to the batch."""


class MalformedWitness(ProverRevert):
    """Witness bytes that are not one canonical encoding (`protocol.witness.encode_witness` makes them)."""


class WitnessHeaderMismatch(ProverRevert):
    """The witness's batch header does not hash to the batch's stored data hash: wrong batch."""


class WitnessDepositCountMismatch(ProverRevert):
    """The witness's deposit count is not the batch's `depositEnd - depositStart`."""


class WitnessInputMissing(ProverRevert):
    """The witness lacks the input the step consumes (the deposit, or the tx with its index)."""


class DepositNotInQueue(ProverRevert):
    """The witness's deposit is not the Bridge's deposit `depositStart + cursor`."""


class DepositOutOfOrder(ProverRevert):
    """The deposit's index is not the state's `meta.depositCount`: the pre-state is not the agreed one."""


class TxNotInBatch(ProverRevert):
    """The witness's tx is not in the batch's tx root at its index."""


class WitnessMissingAccess(ProverRevert):
    """The step touches a key the witness's access list lacks: rebuild it with `build_witness`."""


class WitnessDuplicateAccess(ProverRevert):
    """The witness's access list carries a key twice."""


class WitnessAccessProof(ProverRevert):
    """An access's proof does not show its pre-value under the rolling root: wrong value or proof."""


class MalformedLeaf(ProverRevert):
    """A state leaf that does not fit its layout: the claimed pre-state cannot be an honest one."""


class JobStateInconsistent(ProverRevert):
    """A job step whose state lacks what the job started from: no honest trace reaches it."""


class WitnessWeightsMismatch(ProverRevert):
    """A scoring step's witness weights do not hash to the job's `weightsHash`."""


class WrongStepKind(ProverRevert):
    """An executor asked for a step of another kind: call `OneStepProver.proveStep`, which routes."""


class WrongBridge(ProverRevert):
    """`StepContext.bridge` is not the Bridge the prover was deployed with."""


PROVER_ERRORS: dict[str, type[ProverRevert]] = {
    cls.__name__: cls
    for cls in (
        MalformedWitness,
        WitnessHeaderMismatch,
        WitnessDepositCountMismatch,
        WitnessInputMissing,
        DepositNotInQueue,
        DepositOutOfOrder,
        TxNotInBatch,
        WitnessMissingAccess,
        WitnessDuplicateAccess,
        WitnessAccessProof,
        MalformedLeaf,
        JobStateInconsistent,
        WitnessWeightsMismatch,
        WrongStepKind,
        WrongBridge,
    )
}
