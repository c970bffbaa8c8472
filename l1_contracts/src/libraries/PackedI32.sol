// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/tensors.py (canonical_i32, weights_hash) and protocol/records.py (encode_rows)

import {ShapeMismatch, ValueOutOfBounds} from "./KernelErrors.sol";

/// @title PackedI32
/// @notice The protocol's packed integers: values as big-endian i32, concatenated (`canonical_i32`,
/// the preimage of a weights hash and the rows of a test chunk, `i32 × inputs ‖ i32 label` a sample),
/// read into and written from `int256` arrays, each value checked against `[-bound, bound]` as it is
/// read (bound < 2^31, so the check also rejects a word that is not a clean int32).
library PackedI32 {
    uint256 private constant NONE = type(uint256).max; // no index

    /// Calldata i32 values as int256, each checked against [-bound, bound] (bound < 2^31, so the
    /// check also rejects a word that is not a clean int32).
    function fromI32(int32[] calldata v, int256 bound) internal pure returns (int256[] memory out) {
        uint256 n = v.length;
        out = new int256[](n);
        uint256 bad = NONE;
        int256 value;
        assembly ("memory-safe") {
            let src := v.offset
            let dst := add(out, 0x20)
            let end := add(dst, shl(5, n))
            let span := shl(1, bound)
            for {} lt(dst, end) {
                src := add(src, 0x20)
                dst := add(dst, 0x20)
            } {
                let e := calldataload(src)
                if gt(add(e, bound), span) {
                    bad := shr(5, sub(src, v.offset))
                    value := e
                    break
                }
                mstore(dst, e)
            }
        }
        if (bad != NONE) revert ValueOutOfBounds(bad, value, bound);
    }

    /// Packed big-endian i32 values (length a multiple of 4) as int256, each checked against
    /// [-bound, bound].
    function unpackI32(bytes memory data, int256 bound) internal pure returns (int256[] memory out) {
        if (data.length % 4 != 0) revert ShapeMismatch(data.length, 4);
        uint256 n = data.length / 4;
        out = new int256[](n);
        unpackInto(data, 0, n, out, bound);
    }

    /// Each value as a big-endian i32, concatenated (`canonical_i32`); reverts if one does not fit.
    function packI32(int256[] memory v) internal pure returns (bytes memory out) {
        uint256 n = v.length;
        out = new bytes(4 * n);
        uint256 bad = NONE;
        assembly ("memory-safe") {
            let src := add(v, 0x20)
            let dst := add(out, 0x20)
            let end := add(src, shl(5, n))
            let tail := mload(add(dst, shl(2, n))) // the word after the data, restored below
            for {} lt(src, end) {
                src := add(src, 0x20)
                dst := add(dst, 4)
            } {
                let e := mload(src)
                // e fits i32 iff e + 2^31, read unsigned, is below 2^32
                if gt(add(e, 0x80000000), 0xffffffff) {
                    bad := shr(5, sub(src, add(v, 0x20)))
                    break
                }
                mstore(dst, shl(224, e)) // writes 28 bytes past the value, overwritten next
            }
            mstore(add(add(out, 0x20), shl(2, n)), tail)
        }
        if (bad != NONE) revert ValueOutOfBounds(bad, v[bad], type(int32).max);
    }

    /// Value `index` of packed big-endian i32 data.
    function readI32(bytes memory data, uint256 index) internal pure returns (int256) {
        if (4 * index + 4 > data.length) revert ShapeMismatch(data.length, 4 * index + 4);
        return readI32Unchecked(data, index);
    }

    /// Write v (which fits i32) as value `index` of packed big-endian i32 data, in bounds.
    function writeI32(bytes memory data, uint256 index, int256 v) internal pure {
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), shl(2, index))
            mstore(p, or(shl(224, and(v, 0xffffffff)), shr(32, shl(32, mload(p)))))
        }
    }

    /// `weights_hash`: H(i32 × params).
    function weightsHash(int256[] memory w) internal pure returns (bytes32) {
        return keccak256(packI32(w));
    }

    /// out[0 .. count) = the i32 values data[from .. from+count), each checked against
    /// [-bound, bound]; the caller ensures the ranges are in bounds.
    function unpackInto(bytes memory data, uint256 from, uint256 count, int256[] memory out, int256 bound)
        internal
        pure
    {
        uint256 bad = NONE;
        int256 value;
        assembly ("memory-safe") {
            let src := add(add(data, 0x20), shl(2, from))
            let dst := add(out, 0x20)
            let end := add(dst, shl(5, count))
            let span := shl(1, bound)
            for {} lt(dst, end) {
                src := add(src, 4)
                dst := add(dst, 0x20)
            } {
                let e := signextend(3, shr(224, mload(src)))
                if gt(add(e, bound), span) {
                    bad := add(from, shr(5, sub(dst, add(out, 0x20))))
                    value := e
                    break
                }
                mstore(dst, e)
            }
        }
        if (bad != NONE) revert ValueOutOfBounds(bad, value, bound);
    }

    /// Value `index` of packed big-endian i32 data; the caller ensures it is in bounds.
    function readI32Unchecked(bytes memory data, uint256 index) internal pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(3, shr(224, mload(add(add(data, 0x20), shl(2, index)))))
        }
    }
}
