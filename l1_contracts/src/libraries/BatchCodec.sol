// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/codec.py (the batch framing of decode_batch)

import {BatchTooManyTxs, BatchTrailingBytes, BatchTruncated, BatchTxTooLong, BatchVersion} from "../Errors.sol";
import {MAX_BATCH_TXS, MAX_TX_BYTES, PROTOCOL_VERSION} from "../ProtocolParams.sol";
import {MerkleList} from "./MerkleList.sol";

/// @title BatchCodec
/// @notice Batch framing of docs/spec.md section 4, as `protocol.codec.decode_batch` reads it:
///         `u8 version (=1) ‖ u64 timestamp ‖ u32 txCount ‖ (u24 length ‖ tx bytes) × txCount`, no trailing
///         bytes, `txCount ≤ MAX_BATCH_TXS`, each length `≤ MAX_TX_BYTES`. The txs themselves are not
///         decoded (a tx that does not decode is a failed step on L2, not a bad batch).
/// @dev `parse` is one pass over calldata: each tx is copied to scratch memory and hashed, the hashes
///      are reduced in place to the tx root. Constants: ../ProtocolParams.sol.
library BatchCodec {
    uint256 internal constant HEADER_BYTES = 13; // u8 + u64 + u32

    struct Header {
        uint8 version;
        uint64 timestamp;
        uint32 txCount;
        bytes32 txRoot; // merkle_root([H(tx_i)])
    }

    /// @notice Parses batch data and computes its tx root; reverts `Batch*` on bad framing.
    function parse(bytes calldata data) internal pure returns (Header memory h) {
        uint256 size = data.length;
        if (size == 0) revert BatchTruncated(0);
        uint256 head;
        assembly ("memory-safe") {
            head := calldataload(data.offset)
        }
        uint256 version = head >> 248;
        if (version != PROTOCOL_VERSION) revert BatchVersion(version);
        if (size < 9) revert BatchTruncated(1);
        if (size < HEADER_BYTES) revert BatchTruncated(9);
        uint256 count = (head >> 152) & 0xffffffff;
        if (count > MAX_BATCH_TXS) revert BatchTooManyTxs(count);
        h.version = uint8(version);
        h.timestamp = uint64(head >> 184);
        h.txCount = uint32(count);

        bytes32[] memory leaves = new bytes32[](count);
        uint256 pos = HEADER_BYTES;
        uint256 hashed; // txs hashed before the loop stopped
        assembly ("memory-safe") {
            let scratch := mload(0x40) // each tx is copied here in turn; not allocated
            let leaf := add(leaves, 0x20)
            let leavesEnd := add(leaf, shl(5, count))
            let end := add(data.offset, size)
            let p := add(data.offset, pos)
            for {} lt(leaf, leavesEnd) {} {
                // past the end, calldataload reads whatever follows: then `txEnd > end` anyway
                let len := shr(232, calldataload(p))
                let txEnd := add(add(p, 3), len)
                if or(gt(len, MAX_TX_BYTES), gt(txEnd, end)) { break }
                calldatacopy(scratch, add(p, 3), len)
                mstore(leaf, keccak256(scratch, len))
                leaf := add(leaf, 0x20)
                p := txEnd
            }
            pos := sub(p, data.offset)
            hashed := shr(5, sub(leaf, add(leaves, 0x20)))
        }
        if (hashed < count) {
            // the same order of checks as protocol.codec.decode_batch
            if (pos + 3 > size) revert BatchTruncated(pos);
            uint256 len = uint24(bytes3(data[pos:pos + 3]));
            if (len > MAX_TX_BYTES) revert BatchTxTooLong(hashed, len);
            revert BatchTruncated(pos + 3);
        }
        if (pos != size) revert BatchTrailingBytes(size - pos);
        h.txRoot = MerkleList.rootInPlace(leaves);
    }

    /// @notice The hash L1 stores for a batch: `H(u8 version ‖ u64 timestamp ‖ u32 txCount ‖ txRoot)`.
    function dataHash(Header memory h) internal pure returns (bytes32) {
        return hashHeader(h.version, h.timestamp, h.txCount, h.txRoot);
    }

    function hashHeader(uint8 version, uint64 timestamp, uint32 txCount, bytes32 txRoot)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(version, timestamp, txCount, txRoot));
    }
}
