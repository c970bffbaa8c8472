// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BatchCodec} from "../libraries/BatchCodec.sol";

/// @notice Test-only: exposes the BatchCodec library.
contract BatchCodecHarness {
    function parse(bytes calldata data)
        external
        pure
        returns (uint8 version, uint64 timestamp, uint32 txCount, bytes32 txRoot, bytes32 dataHash)
    {
        BatchCodec.Header memory h = BatchCodec.parse(data);
        return (h.version, h.timestamp, h.txCount, h.txRoot, BatchCodec.dataHash(h));
    }

    /// Gas of `parse` + `dataHash` alone (no ABI decoding or copying around it).
    function parseGas(bytes calldata data) external view returns (uint256 used) {
        uint256 before = gasleft();
        BatchCodec.Header memory h = BatchCodec.parse(data);
        BatchCodec.dataHash(h);
        used = before - gasleft();
    }
}
