// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/testset.py (chunks_of_test_set, root_of_test_set)

import {ELEMENT_MAX} from "../ProtocolParams.sol";
import {ShapeMismatch} from "./KernelErrors.sol";
import {MerkleList} from "./MerkleList.sol";
import {ModelSpec} from "./ModelSpec.sol";
import {PackedI32} from "./PackedI32.sol";

/// @title TestSetRows
/// @notice A task's test set as the protocol stores it (docs/spec.md section 6): packed rows
/// (`i32 × inputs ‖ i32 label` big-endian a sample), cut into chunks of `chunkSize(spec)` samples;
/// the test root is the list Merkle root (`MerkleList`) of the chunks' hashes.
library TestSetRows {
    using ModelSpec for ModelSpec.Spec;

    /// Check packed rows (`i32 × inputs ‖ i32 label` per sample): |feature| <= B and each label
    /// valid for the architecture. Returns the number of samples.
    function checkRows(ModelSpec.Spec memory spec, bytes memory rows) internal pure returns (uint256 n) {
        uint256 rowValues = spec.inputs + 1;
        if (rows.length % (4 * rowValues) != 0) revert ShapeMismatch(rows.length, 4 * rowValues);
        n = rows.length / (4 * rowValues);
        uint256 d = spec.inputs;
        int256[] memory x = new int256[](d);
        for (uint256 r; r < n; ) {
            uint256 base;
            unchecked {
                base = r * rowValues;
            }
            PackedI32.unpackInto(rows, base, d, x, ELEMENT_MAX);
            spec.checkLabel(r, PackedI32.readI32Unchecked(rows, base + d));
            unchecked {
                ++r;
            }
        }
    }

    /// `root_of_test_set`: the list Merkle root of H(chunk_j) where chunk j is samples
    /// [j·k, (j+1)·k) of the packed rows (`i32 × inputs ‖ i32 label` each), k = chunkSize(spec).
    function testRoot(ModelSpec.Spec memory spec, bytes memory rows) internal pure returns (bytes32) {
        uint256 rowBytes = 4 * (spec.inputs + 1);
        if (rows.length % rowBytes != 0) revert ShapeMismatch(rows.length, rowBytes);
        uint256 chunkBytes = spec.chunkSize() * rowBytes;
        uint256 total = rows.length;
        uint256 nChunks = (total + chunkBytes - 1) / chunkBytes;
        bytes32[] memory leaves = new bytes32[](nChunks);
        for (uint256 j; j < nChunks; ) {
            uint256 start = j * chunkBytes;
            uint256 len = total - start < chunkBytes ? total - start : chunkBytes;
            bytes32 h;
            assembly ("memory-safe") {
                h := keccak256(add(add(rows, 0x20), start), len)
            }
            leaves[j] = h;
            unchecked {
                ++j;
            }
        }
        return MerkleList.rootInPlace(leaves);
    }
}
