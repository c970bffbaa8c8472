// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title MerkleList
/// @notice The list Merkle root of docs/spec.md section 1 (`protocol.hashing.merkle_root`): the empty list
///         has root 0; otherwise the leaves are padded with 0 to the next power of two and each internal
///         node is H(left ‖ right); one leaf is its own root. Used for tx roots, trace roots, chunk roots.
/// @dev The padding is never hashed leaf by leaf: at each level the real nodes are followed by the
///      root of an all-zero subtree of that height (Z_0 = 0, Z_{h+1} = H(Z_h ‖ Z_h)), so a list of n
///      leaves costs about n + log2(n) hashes.
library MerkleList {
    /// @notice Root of `leaves`; `leaves` is left unchanged.
    function root(bytes32[] memory leaves) internal pure returns (bytes32 r) {
        uint256 n = leaves.length;
        if (n == 0) return bytes32(0);
        if (n == 1) return leaves[0];
        uint256 buffer;
        assembly ("memory-safe") {
            buffer := mload(0x40)
            mstore(0x40, add(buffer, shl(5, shr(1, add(n, 1)))))
        }
        return _reduce(_dataPointer(leaves), buffer, n, 0);
    }

    /// @notice Root of `leaves` read from calldata (the fraud game's step reveal). The first level is
    ///         hashed straight from calldata into a buffer of ceil(n/2) words, so memory (whose cost grows
    ///         with the square of its size) holds half the list rather than a copy of all of it.
    function rootCalldata(bytes32[] calldata leaves) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) return bytes32(0);
        if (n == 1) return leaves[0];
        uint256 m = (n + 1) >> 1;
        uint256 buffer;
        assembly ("memory-safe") {
            buffer := mload(0x40)
            mstore(0x40, add(buffer, shl(5, m)))
            let pairsEnd := add(leaves.offset, shl(6, shr(1, n)))
            let out := buffer
            for { let at := leaves.offset } lt(at, pairsEnd) { at := add(at, 0x40) } {
                calldatacopy(0x00, at, 0x40)
                mstore(out, keccak256(0x00, 0x40))
                out := add(out, 0x20)
            }
            if and(n, 1) {
                mstore(0x00, calldataload(pairsEnd))
                mstore(0x20, 0)
                mstore(out, keccak256(0x00, 0x40))
            }
        }
        if (m == 1) return bytes32(_load(buffer));
        // level 1 pads with Z_1 = H(0 ‖ 0)
        return _reduce(buffer, buffer, m, keccak256(abi.encode(bytes32(0), bytes32(0))));
    }

    /// @notice Root of `leaves`, computed in place: overwrites `leaves` (no allocation).
    function rootInPlace(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) return bytes32(0);
        if (n == 1) return leaves[0];
        uint256 data = _dataPointer(leaves);
        return _reduce(data, data, n, 0);
    }

    /// @notice Number of siblings in a proof for a list of `count` leaves: ceil(log2(count)).
    function depth(uint256 count) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < count) ++d;
    }

    /// @notice True when `proof` (siblings bottom first) shows `leaf` at `index` of a `count`-leaf list
    ///         under `root_`; false for an index out of range or a proof of the wrong length.
    function verify(bytes32 root_, bytes32 leaf, uint256 index, uint256 count, bytes32[] memory proof)
        internal
        pure
        returns (bool)
    {
        if (index >= count || proof.length != depth(count)) return false;
        return rootFromProof(leaf, index, proof) == root_;
    }

    /// @notice The root implied by `leaf` at `index` and its bottom-first siblings (no length check).
    function rootFromProof(bytes32 leaf, uint256 index, bytes32[] memory proof) internal pure returns (bytes32) {
        bytes32 node = leaf;
        uint256 n = proof.length;
        for (uint256 i; i < n; ++i) {
            node = index & 1 == 0 ? _hashPair(node, proof[i]) : _hashPair(proof[i], node);
            index >>= 1;
        }
        return node;
    }

    /// Reduces the `n >= 2` words at `src` level by level, writing each level at `dst` (which may be
    /// `src`: node i is written after hashing nodes 2i and 2i+1, at or after it). `zero0` is the root of
    /// an all-zero subtree at the level of `src` (0 for leaves). Returns the root.
    function _reduce(uint256 src, uint256 dst, uint256 n, bytes32 zero0) private pure returns (bytes32 r) {
        assembly ("memory-safe") {
            let zero := zero0 // root of an all-zero subtree at the current level
            let from := src
            for { let m := n } gt(m, 1) {} {
                // full pairs are adjacent in memory: hash them where they lie
                let out := dst
                let pairsEnd := add(from, shl(6, shr(1, m)))
                for { let at := from } lt(at, pairsEnd) { at := add(at, 0x40) } {
                    mstore(out, keccak256(at, 0x40))
                    out := add(out, 0x20)
                }
                if and(m, 1) {
                    mstore(0x00, mload(pairsEnd))
                    mstore(0x20, zero)
                    mstore(out, keccak256(0x00, 0x40))
                }
                mstore(0x00, zero)
                mstore(0x20, zero)
                zero := keccak256(0x00, 0x40)
                m := sub(m, shr(1, m))
                from := dst
            }
            r := mload(from)
        }
    }

    function _load(uint256 p) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(p)
        }
    }

    function _dataPointer(bytes32[] memory a) private pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := add(a, 0x20)
        }
    }

    function _hashPair(bytes32 a, bytes32 b) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            h := keccak256(0x00, 0x40)
        }
    }
}
