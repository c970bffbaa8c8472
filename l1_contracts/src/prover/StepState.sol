// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/witness.py (reexecute's access list, proofs and rolling root)

import {SparseMerkle} from "../libraries/SparseMerkle.sol";
import {WitnessAccessProof, WitnessDuplicateAccess, WitnessMissingAccess} from "./ProverErrors.sol";
import {WitnessCodec} from "./WitnessCodec.sol";

/// @title StepState
/// @notice The state a step sees: the witness's access list (docs/spec.md section 8) as a table of
///         pre-values in calldata and buffered post-values in memory, like `protocol.state.Overlay`.
/// @dev A step reads and writes through `get`/`set` (a key the witness lacks reverts), and `roll`
///      then checks every access's proof in the witness's order, proof `i` against the root after
///      writing the post-values of accesses `0 … i-1`, and returns the post-state root. The step's
///      own order of reads does not matter, so the prover need not mirror Python's first-access
///      order. A failed tx calls `discardWrites`: its reads are still proven, nothing changes.
///      Keys are found through an open-addressing table indexed by the key's low bits (keys are
///      hashes; a witness that crafts colliding keys only makes its own call dearer).
library StepState {
    struct Entry {
        bytes32 key;
        bool present; // the key holds a value before the step
        uint256 valueOffset; // absolute calldata offset of the pre-value
        uint256 valueLength;
        uint256 proofOffset; // absolute calldata offset of the compact SMT proof
        uint256 proofLength;
        bool written;
        bytes post; // the value written, when `written`
    }

    struct Accesses {
        Entry[] entries; // in the witness's order
        uint256[] slots; // index + 1 of the entry whose key hashes here, 0 when free
        uint256 mask;
    }

    /// @notice The access list of a parsed witness; reverts on a key listed twice.
    function load(WitnessCodec.Witness memory w, uint256 end) internal pure returns (Accesses memory a) {
        uint256 n = w.accessCount;
        a.entries = new Entry[](n);
        uint256 size = 4;
        while (size < 2 * n) size <<= 1;
        a.slots = new uint256[](size);
        a.mask = size - 1;
        uint256 p = w.accessesOffset;
        for (uint256 i; i < n; ++i) {
            Entry memory e = a.entries[i];
            (e.key, e.present, e.valueOffset, e.valueLength, e.proofOffset, e.proofLength, p) =
                WitnessCodec.readAccess(p, end, w.base);
            uint256 slot = uint256(e.key) & a.mask;
            while (a.slots[slot] != 0) {
                if (a.entries[a.slots[slot] - 1].key == e.key) revert WitnessDuplicateAccess(e.key);
                slot = (slot + 1) & a.mask;
            }
            a.slots[slot] = i + 1;
        }
    }

    /// @notice The entry of `key`; reverts `WitnessMissingAccess` when the witness lacks it.
    function entry(Accesses memory a, bytes32 key) internal pure returns (Entry memory) {
        uint256 slot = uint256(key) & a.mask;
        while (true) {
            uint256 index = a.slots[slot];
            if (index == 0) revert WitnessMissingAccess(key);
            Entry memory e = a.entries[index - 1];
            if (e.key == key) return e;
            slot = (slot + 1) & a.mask;
        }
        revert WitnessMissingAccess(key); // unreachable: the loop returns or reverts
    }

    /// @notice The current value of `key` (`present` false: absent). The bytes returned for a written
    ///         key are the buffer itself: callers must not modify them.
    function get(Accesses memory a, bytes32 key) internal pure returns (bool present, bytes memory value) {
        Entry memory e = entry(a, key);
        if (e.written) return (true, e.post);
        if (!e.present) return (false, value);
        value = new bytes(e.valueLength);
        uint256 off = e.valueOffset;
        uint256 len = e.valueLength;
        assembly ("memory-safe") {
            calldatacopy(add(value, 0x20), off, len)
        }
        return (true, value);
    }

    /// @notice `key := value` (buffered until `roll`).
    function set(Accesses memory a, bytes32 key, bytes memory value) internal pure {
        Entry memory e = entry(a, key);
        e.written = true;
        e.post = value;
    }

    /// @notice Forget every write: a failed tx changes nothing, but its reads stay proven.
    function discardWrites(Accesses memory a) internal pure {
        Entry[] memory entries = a.entries;
        for (uint256 i; i < entries.length; ++i) {
            entries[i].written = false;
        }
    }

    /// @notice Checks every access against the rolling root from `root` and returns the post root.
    function roll(Accesses memory a, bytes32 root) internal pure returns (bytes32) {
        Entry[] memory entries = a.entries;
        for (uint256 i; i < entries.length; ++i) {
            Entry memory e = entries[i];
            bytes32 preHash = e.present ? _calldataHash(e.valueOffset, e.valueLength) : bytes32(0);
            uint256 saved = _freePointer();
            bytes memory proof = _copy(e.proofOffset, e.proofLength);
            if (e.written) {
                bytes32 postHash = keccak256(e.post);
                if (!e.present || postHash != preHash) {
                    // verifies and rolls in one walk; a proof of another root reverts SmtRootMismatch
                    root = SparseMerkle.updateMem(root, e.key, e.present, preHash, postHash, proof);
                    _setFreePointer(saved);
                    continue;
                }
            }
            if (!SparseMerkle.verifyMem(root, e.key, e.present, preHash, proof)) revert WitnessAccessProof(i);
            _setFreePointer(saved); // the proof and its decoding are dead: reuse their memory
        }
        return root;
    }

    function _calldataHash(uint256 off, uint256 len) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, off, len)
            h := keccak256(ptr, len)
        }
    }

    function _copy(uint256 off, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        assembly ("memory-safe") {
            calldatacopy(add(out, 0x20), off, len)
        }
    }

    function _freePointer() private pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := mload(0x40)
        }
    }

    function _setFreePointer(uint256 p) private pure {
        assembly ("memory-safe") {
            mstore(0x40, p)
        }
    }
}
