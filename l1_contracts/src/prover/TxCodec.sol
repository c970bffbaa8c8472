// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/codec.py (decode_tx), protocol/signing.py (EIP-712 digests, recovery), protocol/tensors.py (decode_tensor)

import {
    ELEMENT_MAX,
    MAX_RANGE_PROOF,
    MAX_TENSOR_DIM,
    MAX_TENSOR_ELEMENTS,
    MAX_TX_BYTES,
    SECP256K1_N,
    SHARED_LR_MAX,
    SHARED_MAX_FEATURES,
    SHARED_W_MAX,
    SHARED_X_MAX
} from "../ProtocolParams.sol";

/// @title TxCodec
/// @notice Decoding of signed L2 txs and their EIP-712 digests (docs/spec.md section 3), bit for bit
///         as `protocol.codec.decode_tx` and `protocol.signing` compute them, over calldata.
/// @dev `decode` never reverts: bytes that `decode_tx` rejects give `ok = false` (a DECODE_ERROR
///      step). Each type's body is a plan of field codes mirroring `protocol.codec.TX_FIELDS`; a field's
///      EIP-712 word is its value (uints, addresses left-padded, bytes32) or, for a tensor, the hash
///      of its encoding, which is the slice of the tx it was read from (decoding is canonical).
library TxCodec {
    uint256 internal constant SIGNATURE_BYTES = 65;
    uint256 internal constant HALF_N = SECP256K1_N / 2;

    uint256 internal constant TRANSFER = 1;
    uint256 internal constant WITHDRAW = 2;
    uint256 internal constant CREATE_TASK = 3;
    uint256 internal constant COMMIT_MODEL = 4;
    uint256 internal constant REVEAL_TEST_SET = 5;
    uint256 internal constant REVEAL_MODEL = 6;
    uint256 internal constant FINALIZE_TASK = 7;
    uint256 internal constant CREATE_MODEL = 8;
    uint256 internal constant ADD_DATA = 9;
    uint256 internal constant TRAIN = 10;

    // field codes of the plans: unsigned integers of 1, 2, 4, 8, 16 bytes over their full range ...
    uint8 private constant U8 = 0x01;
    uint8 private constant U16 = 0x02;
    uint8 private constant U32 = 0x04;
    uint8 private constant U64 = 0x08;
    uint8 private constant U128 = 0x10;
    // ... ranged scalars: arch u8 in [1, 3], nFeatures u8 in [1, SHARED_MAX_FEATURES], learningRate u32
    // in [0, SHARED_LR_MAX]
    // (the low five bits of every integer code are its width in bytes)
    uint8 private constant ARCH = 0x21;
    uint8 private constant NFEAT = 0x61;
    uint8 private constant LR = 0x24;
    uint8 private constant ADDR = 0x40;
    uint8 private constant B32 = 0x41;
    // a list of hashes: u8 count ≤ MAX_RANGE_PROOF ‖ b32 × count (EIP-712 bytes32[]); its field holds the
    // calldata offset of the first hash and the count, as `offset | count << 128`
    uint8 private constant B32LIST = 0x80;
    // tensors: rank 1 or 2, bound ELEMENT_MAX (E), SHARED_W_MAX (W) or SHARED_X_MAX (X)
    uint8 private constant T1E = 0xC1;
    uint8 private constant T2E = 0xC2;
    uint8 private constant T1W = 0xC3;
    uint8 private constant T2X = 0xC4;
    uint8 private constant T1X = 0xC5;

    bytes32 internal constant TRANSFER_TYPEHASH = keccak256("Transfer(uint64 nonce,address to,uint128 amount,uint64 maxFeePrice)");
    bytes32 internal constant WITHDRAW_TYPEHASH =
        keccak256("Withdraw(uint64 nonce,address recipient,uint128 amount,uint64 maxFeePrice)");
    bytes32 internal constant CREATE_TASK_TYPEHASH = keccak256(
        "CreateTask(uint64 nonce,uint8 arch,uint16 inputs,uint16 hidden,uint16 outputs,uint128 reward,"
        "uint64 commitDeadline,uint64 revealDeadline,bytes32 testCommitment,bytes32 trainDataRef,uint64 maxFeePrice)"
    );
    bytes32 internal constant COMMIT_MODEL_TYPEHASH =
        keccak256("CommitModel(uint64 nonce,uint64 taskId,bytes32 commitment,uint64 maxFeePrice)");
    bytes32 internal constant REVEAL_TEST_SET_TYPEHASH =
        keccak256(
            "RevealTestSet(uint64 nonce,uint64 taskId,bytes32 salt,uint32 nTest,bytes32 testRoot,uint32 firstChunk,"
            "bytes features,bytes labels,bytes32[] proof,uint64 maxFeePrice)"
        );
    bytes32 internal constant REVEAL_MODEL_TYPEHASH =
        keccak256("RevealModel(uint64 nonce,uint64 taskId,bytes32 salt,bytes weights,uint64 maxFeePrice)");
    bytes32 internal constant FINALIZE_TASK_TYPEHASH = keccak256("FinalizeTask(uint64 nonce,uint64 taskId,uint64 maxFeePrice)");
    bytes32 internal constant CREATE_MODEL_TYPEHASH =
        keccak256("CreateModel(uint64 nonce,uint8 nFeatures,uint32 learningRate,bytes weights,uint64 maxFeePrice)");
    bytes32 internal constant ADD_DATA_TYPEHASH =
        keccak256("AddData(uint64 nonce,uint64 modelId,bytes xs,bytes ys,uint64 maxFeePrice)");
    bytes32 internal constant TRAIN_TYPEHASH = keccak256("Train(uint64 nonce,uint64 modelId,uint32 epochs,uint64 maxFeePrice)");

    /// A decoded tensor field: its elements stay in calldata.
    struct Tensor {
        uint256 data; // absolute calldata offset of element 0
        uint256 rank;
        uint256 rows; // dim 0
        uint256 cols; // dim 1 (1 for rank 1)
        uint256 size; // number of elements
        uint256 width; // bytes an element
    }

    /// A decoded signed tx. `f[i]` is body field `i` (nonce first, maxFeePrice last) as a uint (an
    /// address or a bytes32 as its integer); a tensor field holds its index in `t`.
    struct Tx {
        uint256 txType;
        uint256[] f;
        Tensor[] t;
        bytes32 structHash;
        uint256 r;
        uint256 s;
        uint256 v;
    }

    /// @notice Decodes the `size` bytes at absolute calldata offset `start`; `ok` is false exactly when
    ///         `protocol.codec.decode_tx` raises `CodecError`.
    function decode(uint256 start, uint256 size) internal pure returns (bool ok, Tx memory t) {
        if (size == 0 || size > MAX_TX_BYTES) return (false, t);
        uint256 txType = _load(start, 1);
        if (txType == 0 || txType > TRAIN) return (false, t);
        bytes memory plan = _plan(txType);
        uint256 n = plan.length;
        t.txType = txType;
        t.f = new uint256[](n);
        t.t = new Tensor[](2);
        bytes32[] memory words = new bytes32[](n + 1);
        words[0] = typeHash(txType);
        uint256 p = start + 1;
        uint256 end = start + size;
        uint256 tensors;
        for (uint256 i; i < n; ++i) {
            uint8 code = uint8(plan[i]);
            if (code >= T1E) {
                Tensor memory tensor;
                uint256 next;
                (ok, tensor, next) = _tensor(p, end, code);
                if (!ok) return (false, t);
                t.t[tensors] = tensor;
                t.f[i] = tensors++;
                words[i + 1] = _calldataHash(p, next - p);
                p = next;
                continue;
            }
            if (code == B32LIST) {
                if (end - p < 1) return (false, t);
                uint256 count = _load(p, 1);
                if (count > MAX_RANGE_PROOF || end - p - 1 < 32 * count) return (false, t);
                t.f[i] = (p + 1) | (count << 128);
                words[i + 1] = _calldataHash(p + 1, 32 * count);
                p += 1 + 32 * count;
                continue;
            }
            uint256 width = code == ADDR ? 20 : code == B32 ? 32 : code & 0x1f;
            if (end - p < width) return (false, t);
            uint256 v = _load(p, width);
            if (code == ARCH && (v < 1 || v > 3)) return (false, t);
            if (code == NFEAT && (v < 1 || v > SHARED_MAX_FEATURES)) return (false, t);
            if (code == LR && v > SHARED_LR_MAX) return (false, t);
            t.f[i] = v;
            words[i + 1] = bytes32(v);
            p += width;
        }
        if (end - p != SIGNATURE_BYTES) return (false, t);
        t.v = _load(end - 1, 1);
        if (t.v != 27 && t.v != 28) return (false, t);
        t.r = _load(p, 32);
        t.s = _load(p + 32, 32);
        t.structHash = keccak256(abi.encodePacked(words));
        return (true, t);
    }

    /// @notice The signer of a decoded tx under `domainSeparator`, or address(0) when `recover_sender`
    ///         raises `SignatureError`: r or s zero, r ≥ n, s > n/2 (EIP-2), or no key recovers.
    function sender(Tx memory t, bytes32 domainSeparator) internal view returns (address) {
        if (t.r == 0 || t.r >= SECP256K1_N || t.s == 0 || t.s > HALF_N) return address(0);
        return ecrecover(digest(t, domainSeparator), uint8(t.v), bytes32(t.r), bytes32(t.s));
    }

    /// @notice `H(0x19 0x01 ‖ domainSeparator ‖ hashStruct(tx))`.
    function digest(Tx memory t, bytes32 domainSeparator) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", domainSeparator, t.structHash));
    }

    /// @notice Element `i` (row-major) of a decoded tensor.
    function at(Tensor memory tensor, uint256 i) internal pure returns (int256 e) {
        uint256 w = tensor.width;
        uint256 p = tensor.data + i * w;
        assembly ("memory-safe") {
            e := signextend(sub(w, 1), shr(sub(256, shl(3, w)), calldataload(p)))
        }
    }

    function typeHash(uint256 txType) internal pure returns (bytes32) {
        if (txType == TRANSFER) return TRANSFER_TYPEHASH;
        if (txType == WITHDRAW) return WITHDRAW_TYPEHASH;
        if (txType == CREATE_TASK) return CREATE_TASK_TYPEHASH;
        if (txType == COMMIT_MODEL) return COMMIT_MODEL_TYPEHASH;
        if (txType == REVEAL_TEST_SET) return REVEAL_TEST_SET_TYPEHASH;
        if (txType == REVEAL_MODEL) return REVEAL_MODEL_TYPEHASH;
        if (txType == FINALIZE_TASK) return FINALIZE_TASK_TYPEHASH;
        if (txType == CREATE_MODEL) return CREATE_MODEL_TYPEHASH;
        if (txType == ADD_DATA) return ADD_DATA_TYPEHASH;
        return TRAIN_TYPEHASH;
    }

    /// The body fields of each type, in order (protocol.codec.TX_FIELDS): every plan ends with the
    /// signed `maxFeePrice` (u64).
    function _plan(uint256 txType) private pure returns (bytes memory) {
        if (txType == TRANSFER || txType == WITHDRAW) return abi.encodePacked(U64, ADDR, U128, U64);
        if (txType == CREATE_TASK) {
            return abi.encodePacked(U64, ARCH, U16, U16, U16, U128, U64, U64, B32, B32, U64);
        }
        if (txType == COMMIT_MODEL) return abi.encodePacked(U64, U64, B32, U64);
        if (txType == REVEAL_TEST_SET) return abi.encodePacked(U64, U64, B32, U32, B32, U32, T2E, T1E, B32LIST, U64);
        if (txType == REVEAL_MODEL) return abi.encodePacked(U64, U64, B32, T1E, U64);
        if (txType == FINALIZE_TASK) return abi.encodePacked(U64, U64, U64);
        if (txType == CREATE_MODEL) return abi.encodePacked(U64, NFEAT, LR, T1W, U64);
        if (txType == ADD_DATA) return abi.encodePacked(U64, U64, T2X, T1X, U64);
        return abi.encodePacked(U64, U64, U32, U64);
    }

    /// One tensor at `p` (`u8 rank ‖ u32 dim × rank ‖ u8 width ‖ elements`), as
    /// `protocol.tensors.decode_tensor` checks it: rank, each dim ≤ MAX_TENSOR_DIM, at most
    /// MAX_TENSOR_ELEMENTS, width 1|2|4|8, every element in [-bound, bound], and the smallest width
    /// that holds them (1 for no element).
    function _tensor(uint256 p, uint256 end, uint8 code)
        private
        pure
        returns (bool ok, Tensor memory tensor, uint256 next)
    {
        uint256 rank = code == T2E || code == T2X ? 2 : 1;
        int256 bound = code == T1W ? SHARED_W_MAX : code == T2X || code == T1X ? SHARED_X_MAX : ELEMENT_MAX;
        if (end - p < 2 + 4 * rank) return (false, tensor, p);
        if (_load(p, 1) != rank) return (false, tensor, p);
        uint256 rows = _load(p + 1, 4);
        uint256 cols = rank == 2 ? _load(p + 5, 4) : 1;
        if (rows > MAX_TENSOR_DIM || cols > MAX_TENSOR_DIM) return (false, tensor, p);
        uint256 size = rows * cols;
        if (size > MAX_TENSOR_ELEMENTS) return (false, tensor, p);
        p += 1 + 4 * rank;
        uint256 width = _load(p, 1);
        if (width != 1 && width != 2 && width != 4 && width != 8) return (false, tensor, p);
        p += 1;
        if (end - p < size * width) return (false, tensor, p);
        next = p + size * width;
        tensor = Tensor(p, rank, rows, cols, size, width);
        ok = _elementsCanonical(p, size, width, bound);
    }

    /// Whether `size` elements of `width` bytes at `p` all lie in [-bound, bound] and `width` is the
    /// smallest of 1, 2, 4, 8 holding them. Every bound is at least 2^20: width 1 always qualifies, width
    /// 2 needs one element outside int8, width 4 one outside int16 and all in bounds, width 8 one
    /// outside int32 and all in bounds.
    function _elementsCanonical(uint256 p, uint256 size, uint256 width, int256 bound) private pure returns (bool) {
        if (width == 1) return true;
        if (size == 0) return false;
        uint256 end = p + size * width;
        if (width == 2) {
            // 16 lanes a word: an element fits int8 iff its high byte copies bit 7 of its low byte,
            // i.e. (word & 0xff00…) == (word & 0x0080…) * 0x1fe lane by lane (no carry crosses a lane)
            uint256 wide;
            assembly ("memory-safe") {
                let lows := 0x0080008000800080008000800080008000800080008000800080008000800080
                let highs := 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00
                for {} lt(p, end) { p := add(p, 0x20) } {
                    let word := calldataload(p)
                    let left := sub(end, p)
                    if lt(left, 0x20) {
                        word := and(word, not(shr(shl(3, left), not(0)))) // zeros read as int8 0
                    }
                    if xor(and(word, highs), mul(and(word, lows), 0x1fe)) {
                        wide := 1
                        break
                    }
                }
            }
            return wide != 0;
        }
        // width 4 or 8: `out` collects elements outside [-bound, bound], `wide` elements outside the
        // next smaller width (int16 for 4, int32 for 8); width 4 runs eight lanes a word
        bool bad;
        bool wideFound;
        int256 half = width == 4 ? int256(1 << 15) : int256(1 << 31);
        uint256 smallSpan = width == 4 ? (1 << 16) - 1 : (1 << 32) - 1;
        assembly ("memory-safe") {
            let span := shl(1, bound)
            let out := 0
            let wide := 0
            if eq(width, 4) {
                for { let wordsEnd := sub(end, mod(sub(end, p), 0x20)) } lt(p, wordsEnd) { p := add(p, 0x20) } {
                    let word := calldataload(p)
                    let e0 := signextend(3, word)
                    let e1 := signextend(3, shr(32, word))
                    let e2 := signextend(3, shr(64, word))
                    let e3 := signextend(3, shr(96, word))
                    let e4 := signextend(3, shr(128, word))
                    let e5 := signextend(3, shr(160, word))
                    let e6 := signextend(3, shr(192, word))
                    let e7 := signextend(3, shr(224, word))
                    // unrolled: a loop costs more than the checks
                    out := or(
                        out,
                        or(
                            or(or(gt(add(e0, bound), span), gt(add(e1, bound), span)), or(gt(add(e2, bound), span), gt(add(e3, bound), span))),
                            or(or(gt(add(e4, bound), span), gt(add(e5, bound), span)), or(gt(add(e6, bound), span), gt(add(e7, bound), span)))
                        )
                    )
                    wide := or(
                        wide,
                        or(
                            or(or(gt(add(e0, half), smallSpan), gt(add(e1, half), smallSpan)), or(gt(add(e2, half), smallSpan), gt(add(e3, half), smallSpan))),
                            or(or(gt(add(e4, half), smallSpan), gt(add(e5, half), smallSpan)), or(gt(add(e6, half), smallSpan), gt(add(e7, half), smallSpan)))
                        )
                    )
                }
            }
            let shift := sub(256, shl(3, width))
            let wm1 := sub(width, 1)
            for {} lt(p, end) { p := add(p, width) } {
                let e := signextend(wm1, shr(shift, calldataload(p)))
                out := or(out, gt(add(e, bound), span))
                wide := or(wide, gt(add(e, half), smallSpan))
            }
            bad := out
            wideFound := wide
        }
        return !bad && wideFound;
    }

    function _load(uint256 p, uint256 size) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, shl(3, size)), calldataload(p))
        }
    }

    function _calldataHash(uint256 off, uint256 len) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, off, len)
            h := keccak256(ptr, len)
        }
    }
}
