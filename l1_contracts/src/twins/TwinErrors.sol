// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/receipts.py (each error names the failure reason of protocol/txrules.py it mirrors)

// The custom errors of the pure on-chain twins (OnChainRegression, OnChainCompetition) that no other
// contract raises: the ones they share with the Rollup (`TransferFailed`, `NothingToWithdraw`) are
// declared once in ../Errors.sol, the kernel errors (bounds, labels, specs, shapes) once in
// ../libraries/KernelErrors.sol. Each one mirrors a failure reason of the L2 transaction rules
// (protocol/txrules.py), named after the rule it breaks.

// --- OnChainRegression ----------------------------------------------------------------------------

/// train() with no data point stored (the L2's Train needs at least one point).
error NoData();

// --- OnChainCompetition ---------------------------------------------------------------------------

/// No task has this id (UNKNOWN_TASK).
error UnknownTask(uint256 taskId);
/// createTask with msg.value == 0: a task escrows a non-zero reward (INVALID_PARAMS).
error ZeroReward();
/// createTask with more than uint128 wei: L2 amounts are uint128.
error RewardTooLarge(uint256 reward);
/// createTask deadlines break now < commitDeadline < revealDeadline (INVALID_PARAMS).
error InvalidDeadlines(uint256 timestamp, uint64 commitDeadline, uint64 revealDeadline);
/// commit at or after the commit deadline (WRONG_PHASE).
error CommitPhaseOver(uint256 taskId, uint64 commitDeadline);
/// A second commitment of the same miner on a task (ALREADY_COMMITTED).
error AlreadyCommitted(uint256 taskId, address miner);
/// revealTestSet by anyone but the task's submitter (NOT_SUBMITTER).
error NotSubmitter(uint256 taskId, address caller);
/// revealTestSet outside [commitDeadline, revealDeadline) (WRONG_PHASE).
error NotInTestRevealWindow(uint256 taskId, uint64 commitDeadline, uint64 revealDeadline);
/// revealTestSet a second time (WRONG_PHASE).
error TestSetAlreadyRevealed(uint256 taskId);
/// Features are not (n × inputs) with n labels, 1 <= n <= MAX_TEST_SAMPLES (INVALID_PARAMS).
error BadTestSetShape(uint256 features, uint256 labels, uint256 inputs);
/// Packed i32 data whose length is not a whole number of `unit`-byte rows.
error BadPackedLength(uint256 length, uint256 unit);
/// H(testRoot ‖ u32 n ‖ salt) differs from the task's test commitment (HASH_MISMATCH).
error TestSetMismatch(uint256 taskId, bytes32 testRoot);
/// revealModel before the test set is revealed (WRONG_PHASE).
error TestSetNotRevealed(uint256 taskId);
/// revealModel at or after the reveal deadline (WRONG_PHASE).
error ModelRevealClosed(uint256 taskId, uint64 revealDeadline);
/// revealModel by a miner with no commitment on the task (NO_COMMITMENT).
error NoCommitment(uint256 taskId, address miner);
/// revealModel of weights already revealed and scored (WRONG_PHASE).
error AlreadyScored(uint256 taskId, address miner);
/// The weights do not have the architecture's parameter count (INVALID_PARAMS).
error WrongWeightCount(uint256 got, uint256 expected);
/// H(u64 taskId ‖ miner ‖ weightsHash ‖ salt) differs from the miner's commitment (HASH_MISMATCH).
error CommitmentMismatch(uint256 taskId, address miner);
/// finalize of a task already finalized (WRONG_PHASE).
error AlreadyFinalized(uint256 taskId);
/// finalize before the reveal deadline (WRONG_PHASE).
error RevealPhaseNotOver(uint256 taskId, uint64 revealDeadline);
