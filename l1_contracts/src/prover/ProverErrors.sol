// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: l1_contracts/errors.py (PROVER_ERRORS); protocol/witness.py raises WitnessError on the same witnesses

// Every custom error of the L1 one-step prover (l1_contracts/src/prover/). A witness that makes the
// prover revert proves nothing: `protocol.witness.reexecute` raises `WitnessError` on the same
// witnesses. `l1_contracts.errors` has a Python class of each name (`PROVER_ERRORS`).

/// The witness bytes are not one canonical encoding (docs/spec.md section 8): truncated at `offset`,
/// a presence byte other than 0 or 1, an unknown job kind, or trailing bytes.
error MalformedWitness(uint256 offset);
/// The witness's batch header does not hash to the batch data hash the Rollup stored.
error WitnessHeaderMismatch(bytes32 expected, bytes32 computed);
/// The witness's deposit count is not the batch's (`depositEnd - depositStart` of the context).
error WitnessDepositCountMismatch(uint256 expected, uint256 got);
/// The step consumes input `cursor`, which the witness does not carry (a deposit, or tx `cursor -
/// depositCount` with its index).
error WitnessInputMissing(uint256 cursor);
/// The witness's deposit is not the Bridge's deposit `index` (its hash differs from `depositHash`).
error DepositNotInQueue(uint256 index);
/// The deposit step's index is not the state's `meta.depositCount`: the state does not continue the
/// Bridge's queue (the Python re-execution raises on it too).
error DepositOutOfOrder(uint256 index, uint256 expected);
/// The witness's tx is not leaf `index` of the batch's tx root.
error TxNotInBatch(uint256 index);
/// The step reads or writes `key`, which the witness's access list does not carry.
error WitnessMissingAccess(bytes32 key);
/// The witness's access list carries `key` twice.
error WitnessDuplicateAccess(bytes32 key);
/// Access `index`'s proof does not show its pre-value under the rolling root.
error WitnessAccessProof(uint256 index);
/// A state leaf does not fit its layout (docs/spec.md section 2): namespace `ns`, `length` bytes.
/// The agreed pre-state cannot hold one; the Python re-execution raises on it too.
error MalformedLeaf(uint256 ns, uint256 length);
/// A job step whose state is missing what the job was started from (its task, model, commitment or
/// chunk), or whose counters cannot advance: no honest trace reaches it.
error JobStateInconsistent(uint256 jobKind, uint256 id);
/// A scoring step's witness weights do not hash to the job's `weightsHash`.
error WitnessWeightsMismatch(bytes32 expected, bytes32 computed);
/// A step executor was asked for a step of the other kind (a tx step of the job prover, or a job
/// step of the tx prover): `OneStepProver` routes each kind to its executor.
error WrongStepKind(uint256 jobKind);
/// `StepContext.bridge` is not the Bridge the prover was deployed with.
error WrongBridge(address expected, address got);
