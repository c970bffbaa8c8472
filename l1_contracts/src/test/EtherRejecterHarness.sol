// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Test-only: a contract that refuses ETH (no receive/fallback) and can act on a contract, to
///         make payouts to it fail.
contract EtherRejecterHarness {
    function execute(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }
}
