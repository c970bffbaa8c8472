// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/keys.py and protocol/records.py

import {MalformedLeaf} from "./ProverErrors.sol";

/// @title Records
/// @notice State keys and leaf layouts of docs/spec.md section 2, as `protocol/keys.py` and
///         `protocol/records.py` write them. A stored value that does not fit its layout reverts
///         `MalformedLeaf` (Python raises `CodecError` on it).
library Records {
    uint8 internal constant NS_META = 0x00;
    uint8 internal constant NS_ACCOUNT = 0x01;
    uint8 internal constant NS_TASK = 0x02;
    uint8 internal constant NS_COMMITMENT = 0x03;
    uint8 internal constant NS_TEST_CHUNK = 0x04;
    uint8 internal constant NS_MODEL = 0x05;
    uint8 internal constant NS_DATA_CHUNK = 0x06;
    uint8 internal constant NS_WITHDRAWAL = 0x07;

    // a task's flags (`protocol.records.TaskFlag`) and a commitment's status (`CommitStatus`), also the
    // pure on-chain competition twin's (OnChainCompetition)
    uint8 internal constant FLAG_TEST_REVEALED = 1;
    uint8 internal constant FLAG_HAS_BEST = 2;
    uint8 internal constant FLAG_FINALIZED = 4;

    uint8 internal constant COMMITTED = 1;
    uint8 internal constant SCORED = 2;

    uint256 internal constant ACCOUNT_BYTES = 24;
    uint256 internal constant META_BYTES = 32;
    uint256 internal constant TASK_BYTES = 200;
    uint256 internal constant COMMITMENT_BYTES = 77;
    uint256 internal constant MODEL_HEAD_BYTES = 37;

    struct Meta {
        uint64 depositCount;
        uint64 nextTaskId;
        uint64 nextModelId;
        uint64 nextWithdrawalId;
    }

    struct Account {
        uint128 balance;
        uint64 nonce;
    }

    struct Task {
        address submitter;
        uint8 arch;
        uint16 inputs;
        uint16 hidden;
        uint16 outputs;
        uint128 reward;
        uint64 commitDeadline;
        uint64 revealDeadline;
        bytes32 testCommitment;
        bytes32 trainDataRef;
        bytes32 testRoot;
        uint32 nTest;
        uint32 revealedChunks; // test chunks revealed so far, in order
        uint32 commitCount;
        uint8 flags;
        int64 bestScore;
        address bestMiner;
        uint32 bestSeq;
    }

    struct Commitment {
        bytes32 commitment;
        uint32 seq;
        uint8 status;
        int64 score;
        bytes32 weightsHash;
    }

    struct SharedModel {
        address owner;
        uint8 nFeatures;
        uint32 learningRate;
        uint32 nPoints;
        uint64 epochsTrained;
        int256[] weights; // nFeatures + 1, bias first, each an i64 in the leaf
    }

    // --- keys: H(namespace ‖ fields) ---------------------------------------------------------------

    function metaKey() internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(NS_META));
    }

    function accountKey(address who) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(NS_ACCOUNT, who));
    }

    function taskKey(uint64 taskId) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(NS_TASK, taskId));
    }

    function commitmentKey(uint64 taskId, address miner) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(NS_COMMITMENT, taskId, miner));
    }

    function testChunkKey(uint64 taskId, uint32 chunk) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(NS_TEST_CHUNK, taskId, chunk));
    }

    function modelKey(uint64 modelId) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(NS_MODEL, modelId));
    }

    function dataChunkKey(uint64 modelId, uint32 chunk) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(NS_DATA_CHUNK, modelId, chunk));
    }

    function withdrawalKey(uint64 withdrawalId) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(NS_WITHDRAWAL, withdrawalId));
    }

    // --- meta: u64 depositCount ‖ u64 nextTaskId ‖ u64 nextModelId ‖ u64 nextWithdrawalId ------------

    function decodeMeta(bool present, bytes memory data) internal pure returns (Meta memory m) {
        if (!present) return m;
        _checkLength(NS_META, data, META_BYTES);
        m.depositCount = uint64(_at(data, 0, 8));
        m.nextTaskId = uint64(_at(data, 8, 8));
        m.nextModelId = uint64(_at(data, 16, 8));
        m.nextWithdrawalId = uint64(_at(data, 24, 8));
    }

    function encodeMeta(Meta memory m) internal pure returns (bytes memory) {
        return abi.encodePacked(m.depositCount, m.nextTaskId, m.nextModelId, m.nextWithdrawalId);
    }

    // --- account: u128 balance ‖ u64 nonce (absent: 0, 0) ----------------------------------------------

    function decodeAccount(bool present, bytes memory data) internal pure returns (Account memory a) {
        if (!present) return a;
        _checkLength(NS_ACCOUNT, data, ACCOUNT_BYTES);
        a.balance = uint128(_at(data, 0, 16));
        a.nonce = uint64(_at(data, 16, 8));
    }

    function encodeAccount(Account memory a) internal pure returns (bytes memory) {
        return abi.encodePacked(a.balance, a.nonce);
    }

    // --- task -------------------------------------------------------------------------------------------

    function decodeTask(bytes memory data) internal pure returns (Task memory t) {
        _checkLength(NS_TASK, data, TASK_BYTES);
        t.submitter = address(uint160(_at(data, 0, 20)));
        t.arch = uint8(_at(data, 20, 1));
        t.inputs = uint16(_at(data, 21, 2));
        t.hidden = uint16(_at(data, 23, 2));
        t.outputs = uint16(_at(data, 25, 2));
        t.reward = uint128(_at(data, 27, 16));
        t.commitDeadline = uint64(_at(data, 43, 8));
        t.revealDeadline = uint64(_at(data, 51, 8));
        t.testCommitment = bytes32(_at(data, 59, 32));
        t.trainDataRef = bytes32(_at(data, 91, 32));
        t.testRoot = bytes32(_at(data, 123, 32));
        t.nTest = uint32(_at(data, 155, 4));
        t.revealedChunks = uint32(_at(data, 159, 4));
        t.commitCount = uint32(_at(data, 163, 4));
        t.flags = uint8(_at(data, 167, 1));
        t.bestScore = int64(uint64(_at(data, 168, 8)));
        t.bestMiner = address(uint160(_at(data, 176, 20)));
        t.bestSeq = uint32(_at(data, 196, 4));
    }

    function encodeTask(Task memory t) internal pure returns (bytes memory) {
        bytes memory head = abi.encodePacked(
            t.submitter, t.arch, t.inputs, t.hidden, t.outputs, t.reward, t.commitDeadline, t.revealDeadline
        );
        return abi.encodePacked(
            head,
            t.testCommitment,
            t.trainDataRef,
            t.testRoot,
            t.nTest,
            t.revealedChunks,
            t.commitCount,
            t.flags,
            t.bestScore,
            t.bestMiner,
            t.bestSeq
        );
    }

    // --- commitment: b32 commitment ‖ u32 seq ‖ u8 status ‖ i64 score ‖ b32 weightsHash ---------------

    function decodeCommitment(bytes memory data) internal pure returns (Commitment memory c) {
        _checkLength(NS_COMMITMENT, data, COMMITMENT_BYTES);
        c.commitment = bytes32(_at(data, 0, 32));
        c.seq = uint32(_at(data, 32, 4));
        c.status = uint8(_at(data, 36, 1));
        c.score = int64(uint64(_at(data, 37, 8)));
        c.weightsHash = bytes32(_at(data, 45, 32));
    }

    function encodeCommitment(Commitment memory c) internal pure returns (bytes memory) {
        return abi.encodePacked(c.commitment, c.seq, c.status, c.score, c.weightsHash);
    }

    // --- shared model: addr owner ‖ u8 nFeatures ‖ u32 lr ‖ u32 nPoints ‖ u64 epochs ‖ i64 × (nFeatures+1)

    function decodeModel(bytes memory data) internal pure returns (SharedModel memory m) {
        if (data.length < MODEL_HEAD_BYTES) revert MalformedLeaf(NS_MODEL, data.length);
        m.owner = address(uint160(_at(data, 0, 20)));
        m.nFeatures = uint8(_at(data, 20, 1));
        m.learningRate = uint32(_at(data, 21, 4));
        m.nPoints = uint32(_at(data, 25, 4));
        m.epochsTrained = uint64(_at(data, 29, 8));
        uint256 n = uint256(m.nFeatures) + 1;
        _checkLength(NS_MODEL, data, MODEL_HEAD_BYTES + 8 * n);
        m.weights = new int256[](n);
        for (uint256 i; i < n; ++i) {
            m.weights[i] = int256(int64(uint64(_at(data, MODEL_HEAD_BYTES + 8 * i, 8))));
        }
    }

    function encodeModel(SharedModel memory m) internal pure returns (bytes memory out) {
        out = abi.encodePacked(m.owner, m.nFeatures, m.learningRate, m.nPoints, m.epochsTrained);
        for (uint256 i; i < m.weights.length; ++i) {
            out = bytes.concat(out, bytes8(uint64(int64(m.weights[i]))));
        }
    }

    // --- withdrawal: addr l1Recipient ‖ u128 amount ------------------------------------------------------

    function encodeWithdrawal(address recipient, uint128 amount) internal pure returns (bytes memory) {
        return abi.encodePacked(recipient, amount);
    }

    // --- chunks: (i32 × width) per row ---------------------------------------------------------------------

    /// @notice Rows in a stored chunk of `width`-value rows; reverts `MalformedLeaf` unless it is a whole
    ///         number of rows (`protocol.records.decode_rows`).
    function rowCount(uint8 ns, bytes memory data, uint256 width) internal pure returns (uint256) {
        uint256 rowBytes = 4 * width;
        if (width == 0 || data.length % rowBytes != 0) revert MalformedLeaf(ns, data.length);
        return data.length / rowBytes;
    }

    // --- internals -------------------------------------------------------------------------------------------

    function _checkLength(uint8 ns, bytes memory data, uint256 expected) private pure {
        if (data.length != expected) revert MalformedLeaf(ns, data.length);
    }

    /// The big-endian unsigned integer of `size` bytes at `offset` (in bounds: lengths are checked first).
    function _at(bytes memory data, uint256 offset, uint256 size) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, size)), mload(add(add(data, 0x20), offset)))
        }
    }
}
