// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleList} from "../libraries/MerkleList.sol";

/// @notice Test-only: exposes the MerkleList library.
contract MerkleListHarness {
    function root(bytes32[] memory leaves) external pure returns (bytes32 r, bytes32[] memory after_) {
        r = MerkleList.root(leaves);
        after_ = leaves; // must be unchanged
    }

    function rootInPlace(bytes32[] memory leaves) external pure returns (bytes32) {
        return MerkleList.rootInPlace(leaves);
    }

    function rootCalldata(bytes32[] calldata leaves) external pure returns (bytes32) {
        return MerkleList.rootCalldata(leaves);
    }

    function verify(bytes32 root_, bytes32 leaf, uint256 index, uint256 count, bytes32[] calldata proof)
        external
        pure
        returns (bool)
    {
        return MerkleList.verify(root_, leaf, index, count, proof);
    }

    function rangeRoot(bytes32[] memory nodes, uint256 first, uint256 total, bytes32[] calldata proof)
        external
        pure
        returns (bool ok, bytes32 r)
    {
        uint256 at;
        assembly ("memory-safe") {
            at := proof.offset
        }
        return MerkleList.rangeRoot(nodes, first, total, at, proof.length);
    }

    function depth(uint256 count) external pure returns (uint256) {
        return MerkleList.depth(count);
    }
}
