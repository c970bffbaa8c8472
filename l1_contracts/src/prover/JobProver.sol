// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/jobsteps.py

import {StepContext} from "../interfaces/IOneStepProver.sol";
import {ELEMENT_MAX, SHARED_X_MAX} from "../ProtocolParams.sol";
import {ModelSpec} from "../libraries/ModelSpec.sol";
import {PackedI32} from "../libraries/PackedI32.sol";
import {Scoring} from "../libraries/Scoring.sol";
import {SharedSGD} from "../libraries/SharedSGD.sol";
import {IStepExecutor} from "./IStepExecutor.sol";
import {JobStateInconsistent, WitnessWeightsMismatch, WrongStepKind} from "./ProverErrors.sol";
import {Records} from "./Records.sol";
import {StepState} from "./StepState.sol";
import {WitnessCodec} from "./WitnessCodec.sol";

/// @title JobProver
/// @notice Re-executes one chunk of a pending job (docs/spec.md sections 5 and 6), as
///         `protocol.jobsteps` does: a SCORE chunk (one stored test chunk scored with the witness's
///         weights, bound by the job's `weightsHash`; the last chunk writes the score and the task's
///         best) or a TRAIN chunk (per-sample SGD over one stored data chunk).
/// @dev What Python cannot execute (a vanished task, model, commitment or chunk; values out of the
///      kernels' bounds) reverts: no honest trace reaches such a state.
contract JobProver is IStepExecutor {
    using StepState for StepState.Accesses;
    using ModelSpec for ModelSpec.Spec;
    using Scoring for ModelSpec.Spec;

    /// @inheritdoc IStepExecutor
    function execute(StepContext calldata, bytes calldata witness) external pure returns (bytes32 postStepHash) {
        WitnessCodec.Witness memory w = WitnessCodec.parse(witness);
        StepState.Accesses memory a = StepState.load(w, w.base + witness.length);
        bytes32 jobHash;
        if (w.jobKind == WitnessCodec.JOB_SCORE) {
            jobHash = _score(a, w);
        } else if (w.jobKind == WitnessCodec.JOB_TRAIN) {
            jobHash = _train(a, w);
        } else {
            revert WrongStepKind(w.jobKind);
        }
        return WitnessCodec.stepHash(a.roll(w.preRoot), w.preCursor, jobHash);
    }

    // --- SCORE: u8 1 ‖ u64 taskId ‖ addr miner ‖ b32 weightsHash ‖ u32 nextChunk ‖ u128 acc ---------------

    function _score(StepState.Accesses memory a, WitnessCodec.Witness memory w) private pure returns (bytes32) {
        uint256 j = w.jobOffset;
        uint64 taskId = uint64(WitnessCodec.load(j + 1, 8));
        address miner = address(uint160(WitnessCodec.load(j + 9, 20)));
        bytes32 weightsHash = bytes32(WitnessCodec.load(j + 29, 32));
        uint32 nextChunk = uint32(WitnessCodec.load(j + 61, 4));
        uint256 acc = WitnessCodec.load(j + 65, 16);
        int256[] memory weights = _weights(w, weightsHash);

        (bool present, bytes memory raw) = a.get(Records.taskKey(taskId));
        if (!present) revert JobStateInconsistent(WitnessCodec.JOB_SCORE, taskId);
        Records.Task memory task = Records.decodeTask(raw);
        ModelSpec.Spec memory spec = ModelSpec.Spec(task.arch, task.inputs, task.hidden, task.outputs);
        (present, raw) = a.get(Records.testChunkKey(taskId, nextChunk));
        if (!present || Records.rowCount(Records.NS_TEST_CHUNK, raw, spec.inputs + 1) == 0) {
            revert JobStateInconsistent(WitnessCodec.JOB_SCORE, taskId);
        }
        (uint256 sum, ) = spec.scoreChunk(weights, raw);
        acc += sum;
        if (acc > type(uint128).max) revert JobStateInconsistent(WitnessCodec.JOB_SCORE, taskId);
        uint256 chunks = (uint256(task.nTest) + spec.chunkSize() - 1) / spec.chunkSize();
        if (uint256(nextChunk) + 1 < chunks) {
            return keccak256(abi.encodePacked(uint8(1), taskId, miner, weightsHash, nextChunk + 1, uint128(acc)));
        }
        if (task.nTest == 0) revert JobStateInconsistent(WitnessCodec.JOB_SCORE, taskId);
        int64 score = int64(spec.finalScore(acc, task.nTest));
        bytes32 commitmentKey = Records.commitmentKey(taskId, miner);
        (present, raw) = a.get(commitmentKey);
        if (!present) revert JobStateInconsistent(WitnessCodec.JOB_SCORE, taskId);
        Records.Commitment memory c = Records.decodeCommitment(raw);
        c.status = Records.SCORED;
        c.score = score;
        a.set(commitmentKey, Records.encodeCommitment(c));
        bool better = task.flags & Records.FLAG_HAS_BEST == 0 || score > task.bestScore
            || (score == task.bestScore && c.seq < task.bestSeq);
        if (better) {
            task.bestScore = score;
            task.bestMiner = miner;
            task.bestSeq = c.seq;
            task.flags |= Records.FLAG_HAS_BEST;
            a.set(Records.taskKey(taskId), Records.encodeTask(task));
        }
        return bytes32(0);
    }

    /// The witness's weights (packed i32), which must hash to the job's `weightsHash`.
    function _weights(WitnessCodec.Witness memory w, bytes32 expected) private pure returns (int256[] memory) {
        bytes memory packed = new bytes(w.hasWeights ? 4 * w.weightsCount : 0);
        uint256 off = w.weightsOffset;
        uint256 len = packed.length;
        assembly ("memory-safe") {
            calldatacopy(add(packed, 0x20), off, len)
        }
        bytes32 computed = keccak256(packed);
        if (!w.hasWeights || computed != expected) revert WitnessWeightsMismatch(expected, computed);
        return PackedI32.unpackI32(packed, ELEMENT_MAX);
    }

    // --- TRAIN: u8 2 ‖ u64 modelId ‖ u32 stepsLeft ‖ u32 nextChunk ‖ u32 nChunks ----------------------------

    function _train(StepState.Accesses memory a, WitnessCodec.Witness memory w) private pure returns (bytes32) {
        uint256 j = w.jobOffset;
        uint64 modelId = uint64(WitnessCodec.load(j + 1, 8));
        uint32 stepsLeft = uint32(WitnessCodec.load(j + 9, 4));
        uint32 nextChunk = uint32(WitnessCodec.load(j + 13, 4));
        uint32 nChunks = uint32(WitnessCodec.load(j + 17, 4));

        bytes32 modelKey = Records.modelKey(modelId);
        (bool present, bytes memory raw) = a.get(modelKey);
        if (!present) revert JobStateInconsistent(WitnessCodec.JOB_TRAIN, modelId);
        Records.SharedModel memory m = Records.decodeModel(raw);
        uint256 f = m.nFeatures;
        (present, raw) = a.get(Records.dataChunkKey(modelId, nextChunk));
        uint256 rows = present ? Records.rowCount(Records.NS_DATA_CHUNK, raw, f + 1) : 0;
        if (rows == 0) revert JobStateInconsistent(WitnessCodec.JOB_TRAIN, modelId);
        // protocol.kernels.shared_sgd's checks: 1 <= f <= 8, lr, |w| bounds, then every point's bounds
        if (f < 1) revert JobStateInconsistent(WitnessCodec.JOB_TRAIN, modelId);
        SharedSGD.checkShared(m.weights, m.learningRate);
        int256[] memory points = PackedI32.unpackI32(raw, SHARED_X_MAX);
        int256[] memory x = new int256[](f);
        int256 lr = int256(uint256(m.learningRate));
        for (uint256 r; r < rows; ++r) {
            uint256 base = r * (f + 1);
            for (uint256 i; i < f; ++i) x[i] = points[base + i];
            SharedSGD.sgdStep(m.weights, x, points[base + f], lr);
        }
        bool lastChunk = uint256(nextChunk) + 1 == nChunks;
        if (lastChunk) m.epochsTrained += 1;
        a.set(modelKey, Records.encodeModel(m));
        if (stepsLeft == 1) return bytes32(0);
        if (stepsLeft == 0) revert JobStateInconsistent(WitnessCodec.JOB_TRAIN, modelId);
        uint32 next = lastChunk ? 0 : nextChunk + 1;
        return keccak256(abi.encodePacked(uint8(2), modelId, stepsLeft - 1, next, nChunks));
    }
}
