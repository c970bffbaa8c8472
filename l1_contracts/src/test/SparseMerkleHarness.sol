// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SparseMerkle} from "../libraries/SparseMerkle.sol";

/// @notice Test-only: exposes the SparseMerkle library (calldata and memory forms).
contract SparseMerkleHarness {
    struct Case {
        bytes32 root;
        bytes32 key;
        bool present;
        bytes32 oldValueHash;
        bytes32 newValueHash;
        bytes proof;
    }

    /// Outcome of one case: `verify` as 0/1 (or 100 + reason when malformed), the root after the
    /// update (0 when it reverts), and `update` (0 when it reverts).
    struct Outcome {
        uint256 verified;
        bytes32 rootAfter;
        bytes32 updated;
    }

    /// Many cases in one call (tests run hundreds; an eth_call costs tens of ms on eth-tester).
    function many(Case[] calldata cases) external view returns (Outcome[] memory out) {
        out = new Outcome[](cases.length);
        for (uint256 i; i < cases.length; ++i) {
            Case calldata c = cases[i];
            try this.verify(c.root, c.key, c.present, c.oldValueHash, c.proof) returns (bool ok) {
                out[i].verified = ok ? 1 : 0;
            } catch (bytes memory err) {
                out[i].verified = 100 + _reason(err);
            }
            try this.rootAfterUpdate(c.key, c.present, c.newValueHash, c.proof) returns (bytes32 r) {
                out[i].rootAfter = r;
            } catch {}
            try this.update(c.root, c.key, c.present, c.oldValueHash, c.newValueHash, c.proof) returns (bytes32 r) {
                out[i].updated = r;
            } catch {}
        }
    }

    function _reason(bytes memory err) private pure returns (uint256 reason) {
        if (err.length != 36) return 99;
        assembly ("memory-safe") {
            reason := mload(add(err, 36))
        }
    }
    function verify(bytes32 root, bytes32 key, bool present, bytes32 valueHash, bytes calldata proof)
        external
        pure
        returns (bool)
    {
        return SparseMerkle.verify(root, key, present, valueHash, proof);
    }

    function verifyMem(bytes32 root, bytes32 key, bool present, bytes32 valueHash, bytes memory proof)
        external
        pure
        returns (bool)
    {
        return SparseMerkle.verifyMem(root, key, present, valueHash, proof);
    }

    function rootAfterUpdate(bytes32 key, bool present, bytes32 newValueHash, bytes calldata proof)
        external
        pure
        returns (bytes32)
    {
        return SparseMerkle.rootAfterUpdate(key, present, newValueHash, proof);
    }

    function update(
        bytes32 root,
        bytes32 key,
        bool present,
        bytes32 oldValueHash,
        bytes32 newValueHash,
        bytes calldata proof
    ) external pure returns (bytes32) {
        return SparseMerkle.update(root, key, present, oldValueHash, newValueHash, proof);
    }

    function leafHash(bytes32 key, bytes32 valueHash) external pure returns (bytes32) {
        return SparseMerkle.leafHash(key, valueHash);
    }
}
