// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/txrules.py (RevealTestSet, RevealModel, AddData)

import {MAX_ADD_POINTS, MAX_REVEAL_CHUNKS, MAX_REVEAL_VALUES, MAX_TEST_CHUNKS, MAX_TEST_SAMPLES, SHARED_CHUNK_POINTS} from
    "../ProtocolParams.sol";
import {ModelSpec} from "../libraries/ModelSpec.sol";
import {MerkleList} from "../libraries/MerkleList.sol";
import {WrongStepKind} from "./ProverErrors.sol";
import {Records} from "./Records.sol";
import {StepState} from "./StepState.sol";
import {TxCodec} from "./TxCodec.sol";
import {TxExecutorBase} from "./TxExecutorBase.sol";

/// @title TensorTxProver
/// @notice The txs that carry tensors into the state: RevealTestSet (the test set's chunks become
///         leaves), RevealModel (the weights hash, and a SCORE job) and AddData (points appended to
///         data chunks), check for check as `protocol/txrules.py`. Deposits and other txs: `TxProver`.
contract TensorTxProver is TxExecutorBase {
    using StepState for StepState.Accesses;
    using ModelSpec for ModelSpec.Spec;

    function _handle(StepState.Accesses memory a, TxCodec.Tx memory t, address sender, uint256 now_)
        internal
        pure
        override
        returns (uint256, bytes32)
    {
        if (t.txType == TxCodec.REVEAL_TEST_SET) return (_revealTestSet(a, t, sender, now_), 0);
        if (t.txType == TxCodec.REVEAL_MODEL) return _revealModel(a, t, sender, now_);
        if (t.txType == TxCodec.ADD_DATA) return (_addData(a, t), 0);
        revert WrongStepKind(t.txType); // the other txs are TxProver's
    }

    /// f: nonce, taskId, salt, nTest, testRoot, firstChunk, features (tensor 0, m × inputs), labels
    /// (tensor 1, m), proof (its calldata offset and count). A run of whole chunks, in order, proven
    /// against testRoot; the last run sets FLAG_TEST_REVEALED.
    function _revealTestSet(StepState.Accesses memory a, TxCodec.Tx memory t, address sender, uint256 now_)
        private
        pure
        returns (uint256)
    {
        uint256 taskId = t.f[1];
        (bool exists, Records.Task memory task) = _task(a, taskId);
        if (!exists) return UNKNOWN_TASK;
        if (sender != task.submitter) return NOT_SUBMITTER;
        if (!(task.commitDeadline <= now_ && now_ < task.revealDeadline) || task.flags & Records.FLAG_TEST_REVEALED != 0)
        {
            return WRONG_PHASE;
        }
        ModelSpec.Spec memory spec = ModelSpec.Spec(task.arch, task.inputs, task.hidden, task.outputs);
        if (!_revealShapeOk(spec, t, task.revealedChunks)) return INVALID_PARAMS;
        TxCodec.Tensor memory features = t.t[0];
        TxCodec.Tensor memory labels = t.t[1];
        if (!_labelsOk(spec, labels)) return INVALID_PARAMS;
        uint256 n = t.f[3];
        bytes32 testRoot = bytes32(t.f[4]);
        if (keccak256(abi.encodePacked(testRoot, uint32(n), bytes32(t.f[2]))) != task.testCommitment) {
            return HASH_MISMATCH;
        }
        uint256 k = spec.chunkSize();
        uint256 m = labels.rows;
        uint256 chunks = (m + k - 1) / k;
        bytes[] memory chunkBytes = new bytes[](chunks);
        bytes32[] memory leaves = new bytes32[](chunks);
        for (uint256 j; j < chunks; ++j) {
            uint256 first = j * k;
            uint256 count = m - first < k ? m - first : k;
            chunkBytes[j] = _rows(features, labels, first, count, spec.inputs);
            leaves[j] = keccak256(chunkBytes[j]);
        }
        uint256 firstChunk = t.f[5];
        (bool proven, bytes32 root) = MerkleList.rangeRoot(
            leaves, firstChunk, (n + k - 1) / k, t.f[8] & type(uint128).max, t.f[8] >> 128
        );
        if (!proven || root != testRoot) return HASH_MISMATCH;
        for (uint256 j; j < chunks; ++j) {
            a.set(Records.testChunkKey(uint64(taskId), uint32(firstChunk + j)), chunkBytes[j]);
        }
        task.testRoot = testRoot;
        task.nTest = uint32(n);
        task.revealedChunks = uint32(firstChunk + chunks);
        if (firstChunk + chunks == (n + k - 1) / k) task.flags |= Records.FLAG_TEST_REVEALED;
        _putTask(a, taskId, task);
        return OK;
    }

    /// The INVALID_PARAMS checks of a RevealTestSet's sizes, in `_reveal_test_set`'s terms: n samples in
    /// at most MAX_TEST_CHUNKS chunks; this run starts at the next unrevealed chunk, holds m ≥ 1 samples
    /// of whole chunks (the test set's last may be short) and at most MAX_REVEAL_CHUNKS chunks and
    /// MAX_REVEAL_VALUES values.
    function _revealShapeOk(ModelSpec.Spec memory spec, TxCodec.Tx memory t, uint256 revealed)
        private
        pure
        returns (bool)
    {
        uint256 k = spec.chunkSize();
        uint256 n = t.f[3];
        uint256 m = t.t[1].rows;
        uint256 start = t.f[5] * k;
        if (n < 1 || n > MAX_TEST_SAMPLES || (n + k - 1) / k > MAX_TEST_CHUNKS || t.f[5] != revealed) return false;
        if (t.t[0].rows != m || t.t[0].cols != spec.inputs || m < 1 || start >= n || m > n - start) return false;
        if (m % k != 0 && start + m != n) return false;
        return (m + k - 1) / k <= MAX_REVEAL_CHUNKS && m * (spec.inputs + 1) <= MAX_REVEAL_VALUES;
    }

    /// f: nonce, taskId, salt, weights (tensor 0).
    function _revealModel(StepState.Accesses memory a, TxCodec.Tx memory t, address sender, uint256 now_)
        private
        pure
        returns (uint256, bytes32)
    {
        uint64 taskId = uint64(t.f[1]);
        (bool exists, Records.Task memory task) = _task(a, taskId);
        if (!exists) return (UNKNOWN_TASK, 0);
        if (task.flags & Records.FLAG_TEST_REVEALED == 0 || now_ >= task.revealDeadline) return (WRONG_PHASE, 0);
        bytes32 key = Records.commitmentKey(taskId, sender);
        (bool committed, bytes memory raw) = a.get(key);
        if (!committed) return (NO_COMMITMENT, 0);
        Records.Commitment memory c = Records.decodeCommitment(raw);
        if (c.status != Records.COMMITTED) return (WRONG_PHASE, 0);
        ModelSpec.Spec memory spec = ModelSpec.Spec(task.arch, task.inputs, task.hidden, task.outputs);
        TxCodec.Tensor memory weights = t.t[0];
        if (weights.rows != spec.paramCount()) return (INVALID_PARAMS, 0);
        bytes32 digest = keccak256(_packI32(weights)); // weights_hash: H(i32 × params)
        if (keccak256(abi.encodePacked(taskId, sender, digest, bytes32(t.f[2]))) != c.commitment) {
            return (HASH_MISMATCH, 0);
        }
        c.weightsHash = digest;
        a.set(key, Records.encodeCommitment(c));
        // ScoreJob(taskId, miner = sender, weightsHash, nextChunk = 0, acc = 0)
        return (OK, keccak256(abi.encodePacked(uint8(1), taskId, sender, digest, uint32(0), uint128(0))));
    }

    /// f: nonce, modelId, xs (tensor 0, n × nFeatures), ys (tensor 1, n).
    function _addData(StepState.Accesses memory a, TxCodec.Tx memory t) private pure returns (uint256) {
        uint64 modelId = uint64(t.f[1]);
        (bool exists, Records.SharedModel memory model) = _model(a, modelId);
        if (!exists) return UNKNOWN_MODEL;
        TxCodec.Tensor memory xs = t.t[0];
        TxCodec.Tensor memory ys = t.t[1];
        uint256 n = ys.rows;
        uint256 f = model.nFeatures;
        if (xs.rows != n || xs.cols != f || n < 1 || n > MAX_ADD_POINTS) return INVALID_PARAMS;
        uint256 position = model.nPoints;
        uint256 done;
        while (done < n) {
            uint256 offset = position % SHARED_CHUNK_POINTS;
            uint256 take = SHARED_CHUNK_POINTS - offset < n - done ? SHARED_CHUNK_POINTS - offset : n - done;
            bytes32 key = Records.dataChunkKey(modelId, uint32(position / SHARED_CHUNK_POINTS));
            (bool stored, bytes memory raw) = a.get(key);
            if (stored) Records.rowCount(Records.NS_DATA_CHUNK, raw, f + 1); // decode_rows' check
            a.set(key, bytes.concat(raw, _rows(xs, ys, done, take, f)));
            position += take;
            done += take;
        }
        model.nPoints = uint32(position);
        a.set(Records.modelKey(modelId), Records.encodeModel(model));
        return OK;
    }

    /// Samples [first, first+count) as stored rows: `i32 × cols ‖ i32 label` each (`encode_rows`).
    /// One assembly loop (a call per sample costs more than the values it copies).
    function _rows(TxCodec.Tensor memory x, TxCodec.Tensor memory y, uint256 first, uint256 count, uint256 cols)
        private
        pure
        returns (bytes memory out)
    {
        out = new bytes(4 * count * (cols + 1));
        uint256 xw = x.width;
        uint256 yw = y.width;
        uint256 xsrc = x.data + first * cols * xw;
        uint256 ysrc = y.data + first * yw;
        assembly ("memory-safe") {
            let xshift := sub(256, shl(3, xw))
            let yshift := sub(256, shl(3, yw))
            let dst := add(out, 0x20)
            let end := add(dst, mload(out))
            let rowBytes := shl(2, cols)
            for {} lt(dst, end) {} {
                // each store writes a word: the 28 bytes past the value are overwritten next, and `out`
                // is the last allocation while it is written
                for { let rowEnd := add(dst, rowBytes) } lt(dst, rowEnd) { dst := add(dst, 4) } {
                    mstore(dst, shl(224, signextend(sub(xw, 1), shr(xshift, calldataload(xsrc)))))
                    xsrc := add(xsrc, xw)
                }
                mstore(dst, shl(224, signextend(sub(yw, 1), shr(yshift, calldataload(ysrc)))))
                ysrc := add(ysrc, yw)
                dst := add(dst, 4)
            }
        }
    }

    /// Whether every label of `labels` suits the architecture (`ModelSpec.label_ok`): LINREG's range is
    /// the tensor's own bound, LOGREG takes {0, 1}, an MLP [0, outputs).
    function _labelsOk(ModelSpec.Spec memory spec, TxCodec.Tensor memory labels) private pure returns (bool ok) {
        if (spec.arch == ModelSpec.LINREG) return true;
        uint256 limit = spec.arch == ModelSpec.LOGREG ? 2 : spec.outputs;
        uint256 w = labels.width;
        uint256 src = labels.data;
        uint256 end = src + labels.size * w;
        assembly ("memory-safe") {
            let shift := sub(256, shl(3, w))
            let wm1 := sub(w, 1)
            let bad := 0
            for {} lt(src, end) { src := add(src, w) } {
                // a negative label reads as a huge unsigned number: one comparison checks [0, limit)
                bad := or(bad, iszero(lt(signextend(wm1, shr(shift, calldataload(src))), limit)))
            }
            ok := iszero(bad)
        }
    }

    /// Every element of `t` as packed big-endian i32 (`canonical_i32`).
    function _packI32(TxCodec.Tensor memory t) private pure returns (bytes memory out) {
        out = new bytes(4 * t.size);
        uint256 dst;
        assembly ("memory-safe") {
            dst := add(out, 0x20)
        }
        _writeI32(t, 0, t.size, dst);
    }

    /// Writes elements [from, from+count) of `t` as i32 at memory `dst`; returns the end. Each store
    /// writes a whole word: the 28 bytes past the value are scratch the next store (or the caller's
    /// next allocation) overwrites, and `out` is the last allocation while it is written.
    function _writeI32(TxCodec.Tensor memory t, uint256 from, uint256 count, uint256 dst)
        private
        pure
        returns (uint256)
    {
        uint256 w = t.width;
        uint256 src = t.data + from * w;
        assembly ("memory-safe") {
            let shift := sub(256, shl(3, w))
            let wm1 := sub(w, 1)
            let end := add(dst, shl(2, count))
            for {} lt(dst, end) {
                dst := add(dst, 4)
                src := add(src, w)
            } {
                let e := signextend(wm1, shr(shift, calldataload(src)))
                mstore(dst, shl(224, and(e, 0xffffffff)))
            }
        }
        return dst;
    }
}
