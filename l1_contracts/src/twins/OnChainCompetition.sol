// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/txrules.py (the competition's txs, check for check), entirely on L1

import {ELEMENT_MAX, MAX_AMOUNT, MAX_TEST_SAMPLES} from "../ProtocolParams.sol";
import {ValueOutOfBounds} from "../libraries/KernelErrors.sol";
import {ModelSpec} from "../libraries/ModelSpec.sol";
import {PackedI32} from "../libraries/PackedI32.sol";
import {Scoring} from "../libraries/Scoring.sol";
import {TestSetRows} from "../libraries/TestSetRows.sol";
import {
    UnknownTask,
    ZeroReward,
    RewardTooLarge,
    InvalidDeadlines,
    CommitPhaseOver,
    AlreadyCommitted,
    NotSubmitter,
    NotInTestRevealWindow,
    TestSetAlreadyRevealed,
    BadTestSetShape,
    BadPackedLength,
    TestSetMismatch,
    TestSetNotRevealed,
    ModelRevealClosed,
    NoCommitment,
    AlreadyScored,
    WrongWeightCount,
    CommitmentMismatch,
    AlreadyFinalized,
    RevealPhaseNotOver
} from "./TwinErrors.sol";
import {NothingToWithdraw, TransferFailed} from "../Errors.sol";
import {Records} from "../prover/Records.sol";

/// @title OnChainCompetition
/// @notice The training competition of docs/spec.md section 6 entirely on L1: a submitter escrows a
/// reward and commits to a hidden test set; miners commit to their weights; the submitter reveals
/// the test set, which is stored on-chain; each miner reveals its weights and the contract scores
/// them on the whole test set in Solidity (`Scoring`, the L2's arithmetic to the bit); after the
/// reveal deadline anyone finalizes, paying the best score or refunding the submitter.
/// @dev Same rules, deadlines (against block.timestamp), commitments and check order as the L2
/// (protocol/txrules.py), and task ids counted from 0, so the same client-side values work on both.
/// Payments: finalize sends the reward at once; if the recipient refuses it, the amount is credited
/// and the recipient takes it with withdrawCredit, so no reward can be stuck or paid twice.
contract OnChainCompetition {
    using ModelSpec for ModelSpec.Spec;
    using Scoring for ModelSpec.Spec;
    using TestSetRows for ModelSpec.Spec;

    /// A task, as the L2's task leaf (spec section 2); `submitter == 0` means no task.
    struct Task {
        address submitter;
        uint8 arch;
        uint16 inputs;
        uint16 hidden;
        uint16 outputs;
        uint8 flags; // bit 0 test set revealed, bit 1 has a best, bit 2 finalized
        uint32 commitCount;
        uint128 reward;
        uint64 commitDeadline;
        uint64 revealDeadline;
        bytes32 testCommitment;
        bytes32 trainDataRef;
        bytes32 testRoot;
        uint32 nTest;
        int64 bestScore;
        address bestMiner;
        uint32 bestSeq;
    }

    /// A miner's commitment and score on a task (the L2's commitment leaf); status 0 = none.
    struct Commitment {
        bytes32 commitment;
        uint32 seq;
        uint8 status; // 1 committed, 2 scored
        int64 score;
        bytes32 weightsHash;
    }

    /// The id the next task gets.
    uint256 public nextTaskId;
    /// Rewards whose transfer the recipient refused, to take with withdrawCredit.
    mapping(address account => uint256 amount) public credits;

    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(address miner => Commitment)) private _commitments;
    /// The revealed test set as packed rows: per sample `i32 × inputs ‖ i32 label` (the chunks, in order).
    mapping(uint256 taskId => bytes) private _testRows;

    event TaskCreated(
        uint256 indexed taskId,
        address indexed submitter,
        uint8 arch,
        uint16 inputs,
        uint16 hidden,
        uint16 outputs,
        uint256 reward,
        uint64 commitDeadline,
        uint64 revealDeadline,
        bytes32 testCommitment,
        bytes32 trainDataRef
    );
    event ModelCommitted(uint256 indexed taskId, address indexed miner, uint32 seq, bytes32 commitment);
    event TestSetRevealed(uint256 indexed taskId, uint32 n, bytes32 testRoot);
    event ModelScored(uint256 indexed taskId, address indexed miner, int64 score, bytes32 weightsHash, bool best);
    event TaskFinalized(uint256 indexed taskId, address indexed recipient, uint256 amount, bool toWinner);
    event PaymentDeferred(address indexed recipient, uint256 amount);
    event CreditWithdrawn(address indexed recipient, uint256 amount);

    // --- the lifecycle ---------------------------------------------------------------------------------

    /// Create a task escrowing msg.value; returns its id. Dims as protocol.models.validate_spec,
    /// deadlines `block.timestamp < commitDeadline < revealDeadline`.
    function createTask(
        uint8 arch,
        uint16 inputs,
        uint16 hidden,
        uint16 outputs,
        uint64 commitDeadline,
        uint64 revealDeadline,
        bytes32 testCommitment,
        bytes32 trainDataRef
    ) external payable returns (uint256 taskId) {
        ModelSpec.validateSpec(arch, inputs, hidden, outputs);
        if (!(block.timestamp < commitDeadline && commitDeadline < revealDeadline)) {
            revert InvalidDeadlines(block.timestamp, commitDeadline, revealDeadline);
        }
        if (msg.value == 0) revert ZeroReward();
        if (msg.value > MAX_AMOUNT) revert RewardTooLarge(msg.value);
        taskId = nextTaskId++;
        Task storage t = _tasks[taskId];
        (t.submitter, t.arch, t.inputs, t.hidden, t.outputs) = (msg.sender, arch, inputs, hidden, outputs);
        (t.reward, t.commitDeadline, t.revealDeadline) = (uint128(msg.value), commitDeadline, revealDeadline);
        (t.testCommitment, t.trainDataRef) = (testCommitment, trainDataRef);
        emit TaskCreated(
            taskId,
            msg.sender,
            arch,
            inputs,
            hidden,
            outputs,
            msg.value,
            commitDeadline,
            revealDeadline,
            testCommitment,
            trainDataRef
        );
    }

    /// Commit to weights before the commit deadline, once per miner:
    /// `commitment = H(u64 taskId ‖ miner ‖ H(i32 × weights) ‖ salt)`.
    function commit(uint256 taskId, bytes32 commitment) external {
        Task storage t = _task(taskId);
        if (block.timestamp >= t.commitDeadline) revert CommitPhaseOver(taskId, t.commitDeadline);
        Commitment storage c = _commitments[taskId][msg.sender];
        if (c.status != 0) revert AlreadyCommitted(taskId, msg.sender);
        uint32 seq = t.commitCount;
        (c.commitment, c.seq, c.status) = (commitment, seq, Records.COMMITTED);
        t.commitCount = seq + 1;
        emit ModelCommitted(taskId, msg.sender, seq, commitment);
    }

    /// The submitter reveals the test set (features n×inputs flat, labels n) in
    /// [commitDeadline, revealDeadline); it must match `H(testRoot ‖ u32 n ‖ salt)`. Stores it.
    function revealTestSet(uint256 taskId, bytes32 salt, int32[] calldata features, int32[] calldata labels)
        external
    {
        (Task storage t, ModelSpec.Spec memory spec) = _testRevealPhase(taskId);
        uint256 n = labels.length;
        if (n < 1 || n > MAX_TEST_SAMPLES || features.length != n * spec.inputs) {
            revert BadTestSetShape(features.length, n, spec.inputs);
        }
        _storeTestSet(taskId, t, spec, _packRows(spec, features, labels), n, salt);
    }

    /// `revealTestSet` with the test set as the protocol's packed rows (`i32 × inputs ‖ i32 label`
    /// big-endian per sample, the test chunks concatenated): 4 bytes a value instead of an ABI word.
    function revealTestSetPacked(uint256 taskId, bytes32 salt, bytes calldata rows) external {
        (Task storage t, ModelSpec.Spec memory spec) = _testRevealPhase(taskId);
        uint256 rowBytes = 4 * (spec.inputs + 1);
        if (rows.length % rowBytes != 0) revert BadPackedLength(rows.length, rowBytes);
        uint256 n = rows.length / rowBytes;
        if (n < 1 || n > MAX_TEST_SAMPLES) revert BadTestSetShape(n * spec.inputs, n, spec.inputs);
        bytes memory copy = rows;
        spec.checkRows(copy);
        _storeTestSet(taskId, t, spec, copy, n, salt);
    }

    /// A committed miner reveals its weights (flat, spec layout) before the reveal deadline; the
    /// contract scores them on the whole stored test set and updates the task's best (a strictly
    /// higher score wins, a tie goes to the lower commit seq). Returns the score.
    function revealModel(uint256 taskId, bytes32 salt, int32[] calldata weights) external returns (int64) {
        (Task storage t, Commitment storage c, ModelSpec.Spec memory spec) = _modelRevealPhase(taskId);
        uint256 params = spec.paramCount();
        if (weights.length != params) revert WrongWeightCount(weights.length, params);
        int256[] memory w = PackedI32.fromI32(weights, ELEMENT_MAX);
        return _score(taskId, t, c, spec, w, PackedI32.weightsHash(w), salt);
    }

    /// `revealModel` with the weights as the protocol's packed big-endian i32 values (the preimage
    /// of the weights hash): 4 bytes a weight instead of an ABI word.
    function revealModelPacked(uint256 taskId, bytes32 salt, bytes calldata weights) external returns (int64) {
        (Task storage t, Commitment storage c, ModelSpec.Spec memory spec) = _modelRevealPhase(taskId);
        uint256 params = spec.paramCount();
        if (weights.length % 4 != 0) revert BadPackedLength(weights.length, 4);
        if (weights.length != 4 * params) revert WrongWeightCount(weights.length / 4, params);
        bytes memory packed = weights;
        int256[] memory w = PackedI32.unpackI32(packed, ELEMENT_MAX);
        return _score(taskId, t, c, spec, w, keccak256(packed), salt);
    }

    /// At or after the reveal deadline, once: pay the reward to the best miner, or back to the
    /// submitter when nobody scored. Anyone may call it.
    function finalize(uint256 taskId) external {
        Task storage t = _task(taskId);
        if (t.flags & Records.FLAG_FINALIZED != 0) revert AlreadyFinalized(taskId);
        if (block.timestamp < t.revealDeadline) revert RevealPhaseNotOver(taskId, t.revealDeadline);
        bool toWinner = t.flags & Records.FLAG_HAS_BEST != 0;
        address recipient = toWinner ? t.bestMiner : t.submitter;
        uint256 amount = t.reward;
        t.flags |= Records.FLAG_FINALIZED; // effects before the transfer: a re-entrant finalize reverts
        emit TaskFinalized(taskId, recipient, amount, toWinner);
        (bool ok, ) = recipient.call{value: amount}("");
        if (!ok) {
            credits[recipient] += amount;
            emit PaymentDeferred(recipient, amount);
        }
    }

    /// Take a reward whose transfer was refused at finalize.
    function withdrawCredit() external {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        credits[msg.sender] = 0;
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
        emit CreditWithdrawn(msg.sender, amount);
    }

    // --- views -------------------------------------------------------------------------------------------

    /// The task `taskId`; reverts `UnknownTask` if there is none.
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _task(taskId);
    }

    /// The commitment and score of `miner` on `taskId` (all zero when it never committed).
    function getCommitment(uint256 taskId, address miner) external view returns (Commitment memory) {
        return _commitments[taskId][miner];
    }

    /// Whether `miner` was scored on `taskId`, and its score.
    function scoreOf(uint256 taskId, address miner) external view returns (bool scored, int64 score) {
        Commitment storage c = _commitments[taskId][miner];
        return (c.status == Records.SCORED, c.score);
    }

    /// The revealed test set as packed rows (`i32 × inputs ‖ i32 label` per sample); empty before.
    function testRows(uint256 taskId) external view returns (bytes memory) {
        return _testRows[taskId];
    }

    // --- internals -----------------------------------------------------------------------------------------

    function _task(uint256 taskId) private view returns (Task storage t) {
        t = _tasks[taskId];
        if (t.submitter == address(0)) revert UnknownTask(taskId);
    }

    /// The checks every test-set reveal starts with, in the L2's order; returns the task and its spec.
    function _testRevealPhase(uint256 taskId)
        private
        view
        returns (Task storage t, ModelSpec.Spec memory spec)
    {
        t = _task(taskId);
        if (msg.sender != t.submitter) revert NotSubmitter(taskId, msg.sender);
        if (block.timestamp < t.commitDeadline || block.timestamp >= t.revealDeadline) {
            revert NotInTestRevealWindow(taskId, t.commitDeadline, t.revealDeadline);
        }
        if (t.flags & Records.FLAG_TEST_REVEALED != 0) revert TestSetAlreadyRevealed(taskId);
        spec = _spec(t);
    }

    /// Check the packed rows of n samples against the task's commitment and store them.
    function _storeTestSet(
        uint256 taskId,
        Task storage t,
        ModelSpec.Spec memory spec,
        bytes memory rows,
        uint256 n,
        bytes32 salt
    ) private {
        bytes32 root = spec.testRoot(rows);
        if (keccak256(abi.encodePacked(root, uint32(n), salt)) != t.testCommitment) {
            revert TestSetMismatch(taskId, root);
        }
        _testRows[taskId] = rows;
        (t.testRoot, t.nTest) = (root, uint32(n));
        t.flags |= Records.FLAG_TEST_REVEALED;
        emit TestSetRevealed(taskId, uint32(n), root);
    }

    /// The checks every model reveal starts with, in the L2's order.
    function _modelRevealPhase(uint256 taskId)
        private
        view
        returns (Task storage t, Commitment storage c, ModelSpec.Spec memory spec)
    {
        t = _task(taskId);
        if (t.flags & Records.FLAG_TEST_REVEALED == 0) revert TestSetNotRevealed(taskId);
        if (block.timestamp >= t.revealDeadline) revert ModelRevealClosed(taskId, t.revealDeadline);
        c = _commitments[taskId][msg.sender];
        if (c.status == 0) revert NoCommitment(taskId, msg.sender);
        if (c.status != Records.COMMITTED) revert AlreadyScored(taskId, msg.sender);
        spec = _spec(t);
    }

    /// Open the commitment with the weights' hash, score them on the stored test set, record the
    /// score and update the task's best.
    function _score(
        uint256 taskId,
        Task storage t,
        Commitment storage c,
        ModelSpec.Spec memory spec,
        int256[] memory w,
        bytes32 digest,
        bytes32 salt
    ) private returns (int64 score) {
        if (keccak256(abi.encodePacked(uint64(taskId), msg.sender, digest, salt)) != c.commitment) {
            revert CommitmentMismatch(taskId, msg.sender);
        }
        (uint256 acc, uint256 n) = spec.scoreRows(w, _testRows[taskId]);
        score = int64(spec.finalScore(acc, n)); // |score| <= 2^50 / 2^16, or a count <= 2^16
        (c.status, c.score, c.weightsHash) = (Records.SCORED, score, digest);
        bool best = t.flags & Records.FLAG_HAS_BEST == 0 || score > t.bestScore
            || (score == t.bestScore && c.seq < t.bestSeq);
        if (best) {
            (t.bestScore, t.bestMiner, t.bestSeq) = (score, msg.sender, c.seq);
            t.flags |= Records.FLAG_HAS_BEST;
        }
        emit ModelScored(taskId, msg.sender, score, digest, best);
    }

    function _spec(Task storage t) private view returns (ModelSpec.Spec memory) {
        return ModelSpec.Spec(t.arch, t.inputs, t.hidden, t.outputs);
    }

    /// The packed rows of a test set, checking |feature| <= B and each label for the architecture.
    function _packRows(ModelSpec.Spec memory spec, int32[] calldata features, int32[] calldata labels)
        private
        pure
        returns (bytes memory rows)
    {
        uint256 d = spec.inputs;
        uint256 n = labels.length;
        rows = new bytes(4 * n * (d + 1));
        uint256 out;
        uint256 f;
        int256 bound = ELEMENT_MAX;
        for (uint256 r; r < n; ) {
            for (uint256 k; k < d; ) {
                int256 v = features[f];
                if (v > bound || v < -bound) revert ValueOutOfBounds(f, v, bound);
                PackedI32.writeI32(rows, out, v);
                unchecked {
                    ++f;
                    ++out;
                    ++k;
                }
            }
            int256 label = labels[r];
            spec.checkLabel(r, label);
            PackedI32.writeI32(rows, out, label);
            unchecked {
                ++out;
                ++r;
            }
        }
    }
}
