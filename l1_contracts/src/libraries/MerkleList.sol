// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/hashing.py (merkle_root, merkle_root_from_proof, merkle_root_from_range)

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

    /// @notice The root implied by `nodes` at leaves [first, first + nodes.length) of a `total`-leaf list
    ///         and their range proof: `count` siblings at calldata offset `proofAt`, consumed level by
    ///         level from the bottom, the left one (a run starting at an odd index) before the right one
    ///         (a run ending at one). `ok` is false when the run is not in the list or the proof has too few
    ///         or too many siblings. Twin of `protocol.hashing.merkle_root_from_range`; overwrites `nodes`.
    function rangeRoot(bytes32[] memory nodes, uint256 first, uint256 total, uint256 proofAt, uint256 count)
        internal
        pure
        returns (bool ok, bytes32 r)
    {
        uint256 m = nodes.length;
        if (m == 0 || first > total || m > total - first) return (false, 0);
        // level[1 .. m] holds the run; level[0] and level[m + 1] take a sibling on either side
        bytes32[] memory level = new bytes32[](m + 2);
        for (uint256 i; i < m; ++i) {
            level[i + 1] = nodes[i];
        }
        uint256 width = 1;
        while (width < total) width <<= 1;
        uint256 start = 1;
        uint256 used;
        while (width > 1) {
            if (first & 1 == 1) {
                if (used == count) return (false, 0);
                level[--start] = _proofAt(proofAt, used++);
                --first;
                ++m;
            }
            if ((first + m) & 1 == 1) {
                if (used == count) return (false, 0);
                level[start + m] = _proofAt(proofAt, used++);
                ++m;
            }
            // node i of the next level goes to level[1 + i], at or before the pair it is hashed from
            m >>= 1;
            for (uint256 i; i < m; ++i) {
                level[1 + i] = _hashPair(level[start + 2 * i], level[start + 2 * i + 1]);
            }
            start = 1;
            first >>= 1;
            width >>= 1;
        }
        if (used != count) return (false, 0);
        return (true, level[1]);
    }

    function _proofAt(uint256 proofAt, uint256 i) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := calldataload(add(proofAt, shl(5, i)))
        }
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
