// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: l1_contracts/errors.py (CUSTOM_ERRORS, one class a name)

// Every custom error of the Rollup, the Bridge and their libraries, in one place; the pure on-chain
// twins (src/twins/) import the ones they share with them (`TransferFailed`, `NothingToWithdraw`)
// from here and declare only their own in TwinErrors.sol. `l1_contracts.bindings` decodes a revert's
// 4-byte selector against these and raises the `L1Error` subclass of the same name
// (`l1_contracts.errors.CUSTOM_ERRORS`).

// --- generic ---------------------------------------------------------------------------------

/// A constructor or setter was given the zero address.
error ZeroAddress();
/// An ETH transfer out of a contract failed (the recipient reverted or ran out of gas).
error TransferFailed(address to, uint256 amount);

// --- SparseMerkle (docs/spec.md section 2) ----------------------------------------------------

/// Compact proof bytes that are not exactly one canonical encoding, or an OTHER terminal that is the
/// proven key itself or off its path, or an OTHER terminal offered for a key claimed present.
/// `reason`: see the `MALFORMED_*` constants of `SparseMerkle`.
error MalformedSmtProof(uint256 reason);
/// `SparseMerkle.update`: the proof does not show the claimed old value under the root.
error SmtRootMismatch(bytes32 root, bytes32 computed);

// --- BatchCodec (docs/spec.md section 4) ------------------------------------------------------

/// The batch data ends inside the header, a length prefix or a tx (`offset` is where it needed more).
error BatchTruncated(uint256 offset);
/// The batch's version byte is not PROTOCOL_VERSION.
error BatchVersion(uint256 version);
/// The header counts more than MAX_BATCH_TXS txs.
error BatchTooManyTxs(uint256 count);
/// Tx `index` is longer than MAX_TX_BYTES.
error BatchTxTooLong(uint256 index, uint256 length);
/// Bytes follow the last tx.
error BatchTrailingBytes(uint256 extra);

// --- Bridge -----------------------------------------------------------------------------------

/// `setRollup` by someone other than the deployer.
error NotDeployer();
/// `setRollup` called a second time.
error RollupAlreadySet();
/// `setRollup` with a Rollup whose `bridge()` is not this Bridge.
error RollupBridgeMismatch(address rollupBridge);
/// `claimWithdrawal` before `setRollup`.
error RollupNotSet();
/// A deposit of zero wei.
error ZeroDeposit();
/// A deposit above type(uint128).max wei (L2 amounts are uint128).
error DepositTooLarge(uint256 amount);
/// `depositHash(i)` / `rollingHash(n)` past the queue.
error DepositOutOfRange(uint256 index, uint256 count);
/// The claimed batch is not finalized (still in its window, or does not exist).
error NotFinalized(uint256 batchIndex);
/// The withdrawal was already paid.
error AlreadyClaimed(uint64 withdrawalId);
/// The proof does not show the withdrawal leaf under the batch's post-state root.
error InvalidProof();

// --- Rollup -----------------------------------------------------------------------------------

/// A constructor parameter out of range.
error InvalidParameter();
/// `bond()` with a value other than the required bond.
error WrongBondAmount(uint256 sent, uint256 required);
/// `bond()` by a proposer that already holds a bond.
error AlreadyBonded();
/// `appendBatch` / `unbond` by an address without a bond.
error NotBonded();
/// `appendBatch` not called by the transaction's own sender, an account without code: the batch data
/// must be the transaction's calldata, where every verifier reads it back (docs/spec.md section 10).
error NotDirectCall(address sender);
/// `unbond` while some of the proposer's batches are not final.
error BondLocked(uint256 pendingBatches);
/// `prevRoot` is not the post root of the last batch (or the genesis root).
error PrevRootMismatch(bytes32 expected, bytes32 given);
/// The cumulative deposit count went down.
error DepositCountDecreased(uint256 previous, uint256 given);
/// The cumulative deposit count exceeds the Bridge's queue.
error DepositCountTooHigh(uint256 given, uint256 available);
/// The batch's L2 timestamp is before the previous batch's.
error TimestampDecreased(uint256 previous, uint256 given);
/// The batch's L2 timestamp is after the L1 block's.
error TimestampInFuture(uint256 given, uint256 blockTimestamp);
/// A batch with no txs and no new deposits.
error EmptyBatch();
/// A batch index at or past `batchCount()`.
error NoSuchBatch(uint256 index, uint256 count);
/// `finalizedRoot(i)` of a batch that is not final.
error BatchNotFinalized(uint256 index);

// --- Rollup: the fraud-proof game (docs/spec.md section 9) -------------------------------------

/// `challenge` with a value other than the challenger bond.
error WrongChallengerBond(uint256 sent, uint256 required);
/// `challenge` of a batch that already has an open challenge.
error AlreadyChallenged(uint256 batchIndex);
/// `challenge` once `l1Timestamp + challengeWindow` has passed (the batch can finalize).
error ChallengeWindowClosed(uint256 batchIndex, uint256 closedAt);
/// The call does not fit the batch's challenge phase (0 none, 1 awaiting the reveal, 2 awaiting the proof).
error WrongChallengePhase(uint256 batchIndex, uint256 phase);
/// A reveal or a proof after its deadline: only `timeout` is left.
error DeadlinePassed(uint256 deadline);
/// `timeout` before the deadline of the current phase.
error DeadlineNotReached(uint256 deadline);
/// `revealSteps` by someone other than the batch's proposer.
error NotBatchProposer(uint256 batchIndex, address proposer);
/// `revealSteps` with no step hash: every batch has at least one step.
error EmptyTrace();
/// `revealSteps` with more step hashes than a challenge records (2^24 - 1).
error TooManySteps(uint256 count, uint256 max);
/// The revealed step hashes do not have the batch's trace root.
error TraceRootMismatch(bytes32 traceRoot, bytes32 computed);
/// `proveFraud` of a step at or past the revealed step count.
error StepOutOfRange(uint256 stepIndex, uint256 stepCount);
/// A trace leaf's list proof does not match the batch's trace root (at the revealed count).
error InvalidStepProof(uint256 leafIndex);
/// The witness does not start from the trace's leaf before the step (the prover's pre step hash).
error PreStepMismatch(bytes32 expected, bytes32 proven);
/// The step re-executes to the claimed leaf: no fraud in that step.
error StepCorrect(uint256 stepIndex);
/// Header fields that do not hash to the batch's stored data hash.
error HeaderMismatch(bytes32 expected, bytes32 given);
/// The trace's last leaf is `H(postRoot ‖ inputCount ‖ 0)`, as it should be.
error LastStepCorrect(bytes32 leaf);
/// `withdrawPayout` (Rollup) or `withdrawCredit` (OnChainCompetition) with nothing credited to `account`.
error NothingToWithdraw(address account);
