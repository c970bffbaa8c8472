// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/txrules.py (Transfer, Withdraw, CreateTask, CommitModel, FinalizeTask, CreateModel, Train)

import {MAX_JOB_STEPS, SHARED_CHUNK_POINTS} from "../ProtocolParams.sol";
import {ModelSpec} from "../libraries/ModelSpec.sol";
import {WrongStepKind} from "./ProverErrors.sol";
import {Records} from "./Records.sol";
import {StepState} from "./StepState.sol";
import {TxCodec} from "./TxCodec.sol";
import {TxExecutorBase} from "./TxExecutorBase.sol";

/// @title TxProver
/// @notice Deposits, undecodable txs, and the txs without tensor work: Transfer, Withdraw, CreateTask,
///         CommitModel, FinalizeTask, CreateModel, Train (`protocol/txrules.py`, check for check).
///         RevealTestSet, RevealModel and AddData run in `TensorTxProver` (EIP-170 code size).
contract TxProver is TxExecutorBase {
    using StepState for StepState.Accesses;

    function _handle(StepState.Accesses memory a, TxCodec.Tx memory t, address sender, uint256 now_)
        internal
        pure
        override
        returns (uint256, bytes32)
    {
        uint256 kind = t.txType;
        uint256[] memory f = t.f;
        if (kind == TxCodec.TRANSFER) {
            if (!_debit(a, sender, f[2])) return (INSUFFICIENT_BALANCE, 0);
            _credit(a, address(uint160(f[1])), f[2]);
            return (OK, 0);
        }
        if (kind == TxCodec.WITHDRAW) return (_withdraw(a, sender, address(uint160(f[1])), f[2]), 0);
        if (kind == TxCodec.CREATE_TASK) return (_createTask(a, sender, f, now_), 0);
        if (kind == TxCodec.COMMIT_MODEL) return (_commitModel(a, sender, f, now_), 0);
        if (kind == TxCodec.FINALIZE_TASK) return (_finalizeTask(a, f[1], now_), 0);
        if (kind == TxCodec.CREATE_MODEL) return (_createModel(a, sender, t), 0);
        if (kind == TxCodec.TRAIN) return _train(a, f[1], f[2]);
        revert WrongStepKind(kind); // tensor txs are TensorTxProver's
    }

    function _withdraw(StepState.Accesses memory a, address sender, address recipient, uint256 amount)
        private
        pure
        returns (uint256)
    {
        if (!_debit(a, sender, amount)) return INSUFFICIENT_BALANCE;
        Records.Meta memory m = _meta(a);
        a.set(Records.withdrawalKey(m.nextWithdrawalId), Records.encodeWithdrawal(recipient, uint128(amount)));
        m.nextWithdrawalId += 1;
        _putMeta(a, m);
        return OK;
    }

    /// f: nonce, arch, inputs, hidden, outputs, reward, commitDeadline, revealDeadline, testCommitment,
    /// trainDataRef.
    function _createTask(StepState.Accesses memory a, address sender, uint256[] memory f, uint256 now_)
        private
        pure
        returns (uint256)
    {
        if (!ModelSpec.specValid(uint8(f[1]), f[2], f[3], f[4])) return INVALID_PARAMS;
        if (!(now_ < f[6] && f[6] < f[7])) return INVALID_PARAMS;
        if (f[5] == 0) return INVALID_PARAMS;
        if (!_debit(a, sender, f[5])) return INSUFFICIENT_BALANCE;
        Records.Meta memory m = _meta(a);
        Records.Task memory task;
        task.submitter = sender;
        task.arch = uint8(f[1]);
        task.inputs = uint16(f[2]);
        task.hidden = uint16(f[3]);
        task.outputs = uint16(f[4]);
        task.reward = uint128(f[5]);
        task.commitDeadline = uint64(f[6]);
        task.revealDeadline = uint64(f[7]);
        task.testCommitment = bytes32(f[8]);
        task.trainDataRef = bytes32(f[9]);
        _putTask(a, m.nextTaskId, task);
        m.nextTaskId += 1;
        _putMeta(a, m);
        return OK;
    }

    /// f: nonce, taskId, commitment.
    function _commitModel(StepState.Accesses memory a, address sender, uint256[] memory f, uint256 now_)
        private
        pure
        returns (uint256)
    {
        (bool exists, Records.Task memory task) = _task(a, f[1]);
        if (!exists) return UNKNOWN_TASK;
        if (now_ >= task.commitDeadline) return WRONG_PHASE;
        bytes32 key = Records.commitmentKey(uint64(f[1]), sender);
        (bool committed, bytes memory raw) = a.get(key);
        if (committed) {
            Records.decodeCommitment(raw); // Python decodes it (and raises on a malformed leaf)
            return ALREADY_COMMITTED;
        }
        Records.Commitment memory c = Records.Commitment(bytes32(f[2]), task.commitCount, Records.COMMITTED, 0, 0);
        a.set(key, Records.encodeCommitment(c));
        task.commitCount += 1;
        _putTask(a, f[1], task);
        return OK;
    }

    function _finalizeTask(StepState.Accesses memory a, uint256 taskId, uint256 now_) private pure returns (uint256) {
        (bool exists, Records.Task memory task) = _task(a, taskId);
        if (!exists) return UNKNOWN_TASK;
        if (task.flags & Records.FLAG_FINALIZED != 0 || now_ < task.revealDeadline) return WRONG_PHASE;
        address winner = task.flags & Records.FLAG_HAS_BEST != 0 ? task.bestMiner : task.submitter;
        task.flags |= Records.FLAG_FINALIZED;
        _putTask(a, taskId, task);
        _credit(a, winner, task.reward);
        return OK;
    }

    /// f: nonce, nFeatures, learningRate, weights (tensor 0).
    function _createModel(StepState.Accesses memory a, address sender, TxCodec.Tx memory t)
        private
        pure
        returns (uint256)
    {
        TxCodec.Tensor memory weights = t.t[0];
        uint256 nFeatures = t.f[1];
        if (weights.rows != nFeatures + 1) return INVALID_PARAMS;
        Records.Meta memory m = _meta(a);
        Records.SharedModel memory model;
        model.owner = sender;
        model.nFeatures = uint8(nFeatures);
        model.learningRate = uint32(t.f[2]);
        model.weights = new int256[](nFeatures + 1);
        for (uint256 i; i <= nFeatures; ++i) {
            model.weights[i] = TxCodec.at(weights, i);
        }
        a.set(Records.modelKey(m.nextModelId), Records.encodeModel(model));
        m.nextModelId += 1;
        _putMeta(a, m);
        return OK;
    }

    function _train(StepState.Accesses memory a, uint256 modelId, uint256 epochs) private pure returns (uint256, bytes32) {
        (bool exists, Records.SharedModel memory model) = _model(a, modelId);
        if (!exists) return (UNKNOWN_MODEL, 0);
        uint256 chunks = (uint256(model.nPoints) + SHARED_CHUNK_POINTS - 1) / SHARED_CHUNK_POINTS;
        if (chunks == 0 || epochs == 0 || epochs * chunks > MAX_JOB_STEPS) return (INVALID_PARAMS, 0);
        // TrainJob(modelId, stepsLeft = epochs·chunks, nextChunk = 0, nChunks)
        return (OK, keccak256(abi.encodePacked(uint8(2), uint64(modelId), uint32(epochs * chunks), uint32(0), uint32(chunks))));
    }
}
