// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/witness.py (encode_witness, the step hash)

import {MalformedWitness} from "./ProverErrors.sol";

/// @title WitnessCodec
/// @notice Parses the canonical witness bytes of docs/spec.md section 8 (`protocol.witness.encode_witness`)
///         in calldata, without copying them: every variable-length part is returned as an absolute
///         calldata offset and a length.
/// @dev Layout: `u32 stepIndex ‖ u8 version ‖ u64 timestamp ‖ u32 txCount ‖ b32 txRoot ‖ u64 depositCount ‖
///      b32 preRoot ‖ u32 preCursor ‖ job ‖ deposit ‖ tx ‖ weights ‖ accesses` with
///      job `u8 0 | job bytes (SCORE 81, TRAIN 21, starting with the kind)`,
///      deposit `u8 0 | u8 1 ‖ u64 index ‖ addr ‖ u128 amount`,
///      tx `u8 0 | u8 1 ‖ u32 index ‖ u32 length ‖ raw ‖ u8 n ‖ b32 × n`,
///      weights `u8 0 | u8 1 ‖ u32 n ‖ i32 × n`,
///      accesses `u32 count ‖ (b32 key ‖ u8 present ‖ [u32 length ‖ value] ‖ u32 proofLength ‖ proof) × count`.
///      Any deviation reverts `MalformedWitness(offset)` (offset relative to the witness's start).
library WitnessCodec {
    uint256 internal constant JOB_NONE = 0;
    uint256 internal constant JOB_SCORE = 1;
    uint256 internal constant JOB_TRAIN = 2;
    uint256 internal constant SCORE_JOB_BYTES = 81;
    uint256 internal constant TRAIN_JOB_BYTES = 21;

    struct Witness {
        uint256 base; // absolute calldata offset of the witness's first byte
        uint256 stepIndex;
        uint256 version;
        uint256 timestamp;
        uint256 txCount;
        bytes32 txRoot;
        uint256 depositCount;
        bytes32 preRoot;
        uint256 preCursor;
        uint256 jobKind; // JOB_NONE, JOB_SCORE or JOB_TRAIN
        uint256 jobOffset; // absolute offset of the job's bytes (kind byte first)
        uint256 jobLength;
        bool hasDeposit;
        uint256 depositIndex;
        address depositRecipient;
        uint256 depositAmount;
        bool hasTx;
        uint256 txIndex;
        uint256 txOffset; // absolute offset of the raw tx
        uint256 txLength;
        uint256 txProofOffset; // absolute offset of the first sibling (bottom first)
        uint256 txProofCount;
        bool hasWeights;
        uint256 weightsOffset; // absolute offset of the packed i32 weights
        uint256 weightsCount;
        uint256 accessesOffset; // absolute offset of the first access
        uint256 accessCount;
    }

    /// @notice Parses `witness` (every part, so trailing bytes are caught), checking every length.
    function parse(bytes calldata witness) internal pure returns (Witness memory w) {
        uint256 base;
        assembly ("memory-safe") {
            base := witness.offset
        }
        uint256 end = base + witness.length;
        w.base = base;
        uint256 p = base;
        (w.stepIndex, p) = _uint(p, 4, end, base);
        (w.version, p) = _uint(p, 1, end, base);
        (w.timestamp, p) = _uint(p, 8, end, base);
        (w.txCount, p) = _uint(p, 4, end, base);
        uint256 word;
        (word, p) = _uint(p, 32, end, base);
        w.txRoot = bytes32(word);
        (w.depositCount, p) = _uint(p, 8, end, base);
        (word, p) = _uint(p, 32, end, base);
        w.preRoot = bytes32(word);
        (w.preCursor, p) = _uint(p, 4, end, base);

        uint256 kind;
        (kind, ) = _uint(p, 1, end, base);
        w.jobKind = kind;
        if (kind != JOB_NONE) {
            uint256 size = kind == JOB_SCORE ? SCORE_JOB_BYTES : kind == JOB_TRAIN ? TRAIN_JOB_BYTES : 0;
            if (size == 0) revert MalformedWitness(p - base);
            _need(p, size, end, base);
            w.jobOffset = p;
            w.jobLength = size;
            p += size;
        } else {
            p += 1;
        }

        bool flag;
        (flag, p) = _flag(p, end, base);
        if (flag) {
            w.hasDeposit = true;
            (w.depositIndex, p) = _uint(p, 8, end, base);
            (word, p) = _uint(p, 20, end, base);
            w.depositRecipient = address(uint160(word));
            (w.depositAmount, p) = _uint(p, 16, end, base);
        }

        (flag, p) = _flag(p, end, base);
        if (flag) {
            w.hasTx = true;
            (w.txIndex, p) = _uint(p, 4, end, base);
            (w.txLength, p) = _uint(p, 4, end, base);
            _need(p, w.txLength, end, base);
            w.txOffset = p;
            p += w.txLength;
            (w.txProofCount, p) = _uint(p, 1, end, base);
            _need(p, 32 * w.txProofCount, end, base);
            w.txProofOffset = p;
            p += 32 * w.txProofCount;
        }

        (flag, p) = _flag(p, end, base);
        if (flag) {
            w.hasWeights = true;
            (w.weightsCount, p) = _uint(p, 4, end, base);
            _need(p, 4 * w.weightsCount, end, base);
            w.weightsOffset = p;
            p += 4 * w.weightsCount;
        }

        (w.accessCount, p) = _uint(p, 4, end, base);
        w.accessesOffset = p;
        for (uint256 i; i < w.accessCount; ++i) {
            p = skipAccess(p, end, base);
        }
        if (p != end) revert MalformedWitness(p - base);
    }

    /// @notice One access at `p`: its key, presence, value (offset, length), proof (offset, length),
    ///         and where the next access starts. Lengths are checked against `end`.
    function readAccess(uint256 p, uint256 end, uint256 base)
        internal
        pure
        returns (
            bytes32 key,
            bool present,
            uint256 valueOffset,
            uint256 valueLength,
            uint256 proofOffset,
            uint256 proofLength,
            uint256 next
        )
    {
        uint256 word;
        (word, p) = _uint(p, 32, end, base);
        key = bytes32(word);
        (present, p) = _flag(p, end, base);
        if (present) {
            (valueLength, p) = _uint(p, 4, end, base);
            _need(p, valueLength, end, base);
            valueOffset = p;
            p += valueLength;
        }
        (proofLength, p) = _uint(p, 4, end, base);
        _need(p, proofLength, end, base);
        proofOffset = p;
        next = p + proofLength;
    }

    function skipAccess(uint256 p, uint256 end, uint256 base) internal pure returns (uint256 next) {
        (, , , , , , next) = readAccess(p, end, base);
    }

    /// @notice `H(job bytes)`, or 0 when no job is pending.
    function jobHash(Witness memory w) internal pure returns (bytes32 h) {
        if (w.jobKind == JOB_NONE) return bytes32(0);
        uint256 off = w.jobOffset;
        uint256 len = w.jobLength;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, off, len)
            h := keccak256(ptr, len)
        }
    }

    /// @notice The trace leaf `H(stateRoot ‖ u32 cursor ‖ jobHash)` (docs/spec.md section 5).
    function stepHash(bytes32 root, uint256 cursor, bytes32 jobHash_) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(root, uint32(cursor), jobHash_));
    }

    /// @notice A big-endian unsigned integer of `size` (1..32) bytes at absolute calldata offset `p`,
    ///         without a bounds check (callers parse first).
    function load(uint256 p, uint256 size) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, size)), calldataload(p))
        }
    }

    function _uint(uint256 p, uint256 size, uint256 end, uint256 base) private pure returns (uint256 v, uint256 next) {
        _need(p, size, end, base);
        v = load(p, size);
        next = p + size;
    }

    function _flag(uint256 p, uint256 end, uint256 base) private pure returns (bool flag, uint256 next) {
        uint256 v;
        (v, next) = _uint(p, 1, end, base);
        if (v > 1) revert MalformedWitness(p - base);
        flag = v == 1;
    }

    function _need(uint256 p, uint256 size, uint256 end, uint256 base) private pure {
        if (size > end - p) revert MalformedWitness(p - base);
    }
}
