// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/smt.py (verify_proof, root_after_update)

import {MalformedSmtProof, SmtRootMismatch} from "../Errors.sol";

/// @title SparseMerkle
/// @notice Proofs of the compact sparse Merkle tree of the L2 state (docs/spec.md section 2), bit for bit
///         as `protocol/smt.py` computes them.
/// @dev Tree: depth 256, key bit `i` is bit `255 - i` of the key as a big-endian integer (bit 0 = top bit),
///      bit 0 goes left; empty = 0; leaf = H(0x00 ‖ key ‖ valueHash); node = H(left ‖ right); a subtree
///      holding one leaf is that leaf.
///
///      Compact proof bytes: `u16 depth ‖ bitmap (ceil(depth/8) bytes, bit i MSB-first set when sibling i is
///      non-empty) ‖ non-empty siblings, top first ‖ u8 terminal [‖ key' ‖ valueHash']`. Terminal 0 is EMPTY
///      or the key's own LEAF (the caller says which with `present`), terminal 1 is another key's leaf.
///
///      Anything `SmtProof.decode` rejects, and an OTHER terminal that is the key itself or off its path,
///      reverts with `MalformedSmtProof(reason)`; `protocol.smt.verify_proof` returns False on those.
///      A well-formed proof that shows something else than the claim makes `verify` return false.
///
///      Every function has a calldata form and a memory form (`...Mem`, for a prover that assembles or
///      slices proofs in memory); the calldata form copies the proof to memory (3 gas a word) and calls
///      the memory form, so there is one implementation.
library SparseMerkle {
    uint256 internal constant MAX_DEPTH = 256;

    // reasons of MalformedSmtProof
    uint256 internal constant MALFORMED_SHORT = 1; // fewer than 3 bytes
    uint256 internal constant MALFORMED_DEPTH = 2; // depth > 256
    uint256 internal constant MALFORMED_BITMAP = 3; // bitmap truncated, or bits set past the depth
    uint256 internal constant MALFORMED_TRUNCATED = 4; // siblings or the terminal byte missing
    uint256 internal constant MALFORMED_ZERO_SIBLING = 5; // a sibling marked non-empty is zero
    uint256 internal constant MALFORMED_TERMINAL = 6; // unknown terminal, or wrong length after it
    uint256 internal constant MALFORMED_OTHER_KEY = 7; // OTHER terminal is the key, or off its path
    uint256 internal constant MALFORMED_OTHER_PRESENT = 8; // OTHER terminal for a key claimed present

    uint256 private constant _TERMINAL_PLAIN = 0;
    uint256 private constant _TERMINAL_OTHER = 1;

    /// A decoded proof. Sibling `i` (top first) is non-empty when bit `255 - i` of `bitmap` is set; the
    /// non-empty ones are the 32-byte words just below `siblingsEnd` (a memory pointer), the deepest last.
    struct Proof {
        uint256 depth;
        uint256 bitmap;
        uint256 siblingsEnd;
        bool other;
        bytes32 otherKey;
        bytes32 otherValueHash;
    }

    // --- calldata forms ------------------------------------------------------------------------

    /// @notice True when `proof` shows `key` holding a value of hash `valueHash` (`present`) or absent
    ///         (`!present`, `valueHash` ignored) under `root`.
    function verify(bytes32 root, bytes32 key, bool present, bytes32 valueHash, bytes calldata proof)
        internal
        pure
        returns (bool)
    {
        return verifyMem(root, key, present, valueHash, proof);
    }

    /// @notice The root after `key := value of hash newValueHash`, from a proof of the key's current
    ///         state (`present`: it holds a value; `!present`: absent). Does not check the proof against
    ///         any root: verify it first, or use `update`.
    function rootAfterUpdate(bytes32 key, bool present, bytes32 newValueHash, bytes calldata proof)
        internal
        pure
        returns (bytes32)
    {
        return rootAfterUpdateMem(key, present, newValueHash, proof);
    }

    /// @notice Checks that `proof` shows `key` holding `oldValueHash` (`present`) or absent under `root`
    ///         (reverts `SmtRootMismatch` otherwise) and returns the root after writing `newValueHash`.
    ///         One decode, one walk up the siblings hashing both paths.
    function update(
        bytes32 root,
        bytes32 key,
        bool present,
        bytes32 oldValueHash,
        bytes32 newValueHash,
        bytes calldata proof
    ) internal pure returns (bytes32) {
        return updateMem(root, key, present, oldValueHash, newValueHash, proof);
    }

    // --- memory forms --------------------------------------------------------------------------

    function verifyMem(bytes32 root, bytes32 key, bool present, bytes32 valueHash, bytes memory proof)
        internal
        pure
        returns (bool)
    {
        Proof memory p = decode(proof, key);
        bytes32 node;
        if (present) {
            if (p.other) return false;
            node = leafHash(key, valueHash);
        } else if (p.other) {
            node = leafHash(p.otherKey, p.otherValueHash);
        }
        return _hashUp(node, key, p) == root;
    }

    function rootAfterUpdateMem(bytes32 key, bool present, bytes32 newValueHash, bytes memory proof)
        internal
        pure
        returns (bytes32)
    {
        Proof memory p = decode(proof, key);
        return _hashUp(_newTerminal(key, present, newValueHash, p), key, p);
    }

    function updateMem(
        bytes32 root,
        bytes32 key,
        bool present,
        bytes32 oldValueHash,
        bytes32 newValueHash,
        bytes memory proof
    ) internal pure returns (bytes32 newRoot) {
        Proof memory p = decode(proof, key);
        bytes32 oldNode;
        if (present) {
            if (p.other) revert MalformedSmtProof(MALFORMED_OTHER_PRESENT);
            oldNode = leafHash(key, oldValueHash);
        } else if (p.other) {
            oldNode = leafHash(p.otherKey, p.otherValueHash);
        }
        bytes32 oldRoot;
        (oldRoot, newRoot) = _hashUpBoth(oldNode, _newTerminal(key, present, newValueHash, p), key, p);
        if (oldRoot != root) revert SmtRootMismatch(root, oldRoot);
    }

    // --- pieces --------------------------------------------------------------------------------

    /// @notice `H(0x00 ‖ key ‖ valueHash)`.
    function leafHash(bytes32 key, bytes32 valueHash) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch past the free memory pointer, not allocated
            mstore(ptr, 0)
            mstore(add(ptr, 1), key)
            mstore(add(ptr, 33), valueHash)
            h := keccak256(ptr, 65)
        }
    }

    /// @notice Parses compact proof bytes (in memory) for `key`; reverts `MalformedSmtProof` unless they
    ///         are one canonical encoding whose OTHER terminal, if any, is a different key on `key`'s path.
    function decode(bytes memory proof, bytes32 key) internal pure returns (Proof memory p) {
        uint256 size = proof.length;
        if (size < 3) revert MalformedSmtProof(MALFORMED_SHORT);
        uint256 data;
        uint256 head;
        assembly ("memory-safe") {
            data := add(proof, 0x20)
            head := mload(data)
        }
        uint256 depth = head >> 240;
        if (depth > MAX_DEPTH) revert MalformedSmtProof(MALFORMED_DEPTH);
        uint256 bitmapBytes = (depth + 7) >> 3;
        if (size < 2 + bitmapBytes) revert MalformedSmtProof(MALFORMED_BITMAP);
        uint256 raw = _loadWord(data + 2); // the bitmap's bytes at the top, then whatever follows them
        // keep the bitmap's bytes only, then require the bits past `depth` to be clear
        uint256 bitmap = bitmapBytes == 0 ? 0 : raw & ~(type(uint256).max >> (bitmapBytes << 3));
        uint256 inDepth = bitmap & ~(type(uint256).max >> depth); // shr by 256 gives 0: all bits kept
        if (inDepth != bitmap) revert MalformedSmtProof(MALFORMED_BITMAP);

        uint256 count; // non-empty siblings
        for (uint256 x = bitmap; x != 0; x &= x - 1) ++count;
        uint256 start = 2 + bitmapBytes;
        uint256 end = start + (count << 5); // offset of the terminal byte
        if (size <= end) revert MalformedSmtProof(MALFORMED_TRUNCATED);
        for (uint256 off = start; off < end; off += 32) {
            if (_loadWord(data + off) == 0) revert MalformedSmtProof(MALFORMED_ZERO_SIBLING);
        }
        uint256 terminal = _loadWord(data + end) >> 248;
        uint256 rest = size - end - 1;
        p.depth = depth;
        p.bitmap = bitmap;
        p.siblingsEnd = data + end;
        if (terminal == _TERMINAL_PLAIN) {
            if (rest != 0) revert MalformedSmtProof(MALFORMED_TERMINAL);
        } else if (terminal == _TERMINAL_OTHER) {
            if (rest != 64) revert MalformedSmtProof(MALFORMED_TERMINAL);
            bytes32 otherKey = bytes32(_loadWord(data + end + 1));
            // a different key sharing the first `depth` bits with `key`
            uint256 diff = uint256(otherKey ^ key);
            if (diff == 0 || (depth != 0 && diff >> (256 - depth) != 0)) {
                revert MalformedSmtProof(MALFORMED_OTHER_KEY);
            }
            p.other = true;
            p.otherKey = otherKey;
            p.otherValueHash = bytes32(_loadWord(data + end + 33));
        } else {
            revert MalformedSmtProof(MALFORMED_TERMINAL);
        }
    }

    /// The node that replaces the terminal when `key` gets a value of hash `newValueHash`.
    function _newTerminal(bytes32 key, bool present, bytes32 newValueHash, Proof memory p)
        private
        pure
        returns (bytes32 node)
    {
        node = leafHash(key, newValueHash);
        if (!p.other) return node; // EMPTY or LEAF: the new leaf takes its place
        if (present) revert MalformedSmtProof(MALFORMED_OTHER_PRESENT);
        // OTHER: both leaves under the node where the keys split, then one-child nodes up to `depth`
        bytes32 otherLeaf = leafHash(p.otherKey, p.otherValueHash);
        uint256 split = 256 - _bitLength(uint256(key ^ p.otherKey));
        uint256 depth = p.depth;
        assembly ("memory-safe") {
            switch and(shr(sub(255, split), key), 1)
            case 0 {
                mstore(0x00, node)
                mstore(0x20, otherLeaf)
            }
            default {
                mstore(0x00, otherLeaf)
                mstore(0x20, node)
            }
            node := keccak256(0x00, 0x40)
            for { let j := split } gt(j, depth) {} {
                j := sub(j, 1)
                switch and(shr(sub(255, j), key), 1)
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, 0)
                }
                default {
                    mstore(0x00, 0)
                    mstore(0x20, node)
                }
                node := keccak256(0x00, 0x40)
            }
        }
    }

    /// Hashes `node` (at depth `p.depth` on `key`'s path) up to the root with the proof's siblings.
    function _hashUp(bytes32 node, bytes32 key, Proof memory p) private pure returns (bytes32) {
        uint256 bitmap = p.bitmap;
        uint256 ptr = p.siblingsEnd;
        uint256 depth = p.depth;
        assembly ("memory-safe") {
            for { let i := depth } i {} {
                i := sub(i, 1)
                let shift := sub(255, i)
                let sibling := 0
                if and(shr(shift, bitmap), 1) {
                    ptr := sub(ptr, 0x20)
                    sibling := mload(ptr)
                }
                switch and(shr(shift, key), 1)
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                }
                node := keccak256(0x00, 0x40)
            }
        }
        return node;
    }

    /// `_hashUp` of two terminals along the same path and siblings.
    function _hashUpBoth(bytes32 a, bytes32 b, bytes32 key, Proof memory p)
        private
        pure
        returns (bytes32, bytes32)
    {
        uint256 bitmap = p.bitmap;
        uint256 ptr = p.siblingsEnd;
        uint256 depth = p.depth;
        assembly ("memory-safe") {
            for { let i := depth } i {} {
                i := sub(i, 1)
                let shift := sub(255, i)
                let sibling := 0
                if and(shr(shift, bitmap), 1) {
                    ptr := sub(ptr, 0x20)
                    sibling := mload(ptr)
                }
                switch and(shr(shift, key), 1)
                case 0 {
                    mstore(0x20, sibling)
                    mstore(0x00, a)
                    a := keccak256(0x00, 0x40)
                    mstore(0x00, b)
                    b := keccak256(0x00, 0x40)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, a)
                    a := keccak256(0x00, 0x40)
                    mstore(0x20, b)
                    b := keccak256(0x00, 0x40)
                }
            }
        }
        return (a, b);
    }

    function _loadWord(uint256 ptr) private pure returns (uint256 word) {
        assembly ("memory-safe") {
            word := mload(ptr)
        }
    }

    /// Number of bits needed to write `x` (0 for 0).
    function _bitLength(uint256 x) private pure returns (uint256 n) {
        assembly ("memory-safe") {
            if gt(x, 0xffffffffffffffffffffffffffffffff) {
                x := shr(128, x)
                n := 128
            }
            if gt(x, 0xffffffffffffffff) {
                x := shr(64, x)
                n := add(n, 64)
            }
            if gt(x, 0xffffffff) {
                x := shr(32, x)
                n := add(n, 32)
            }
            if gt(x, 0xffff) {
                x := shr(16, x)
                n := add(n, 16)
            }
            if gt(x, 0xff) {
                x := shr(8, x)
                n := add(n, 8)
            }
            if gt(x, 0xf) {
                x := shr(4, x)
                n := add(n, 4)
            }
            if gt(x, 0x3) {
                x := shr(2, x)
                n := add(n, 2)
            }
            if gt(x, 0x1) {
                x := shr(1, x)
                n := add(n, 1)
            }
            n := add(n, x)
        }
    }
}
