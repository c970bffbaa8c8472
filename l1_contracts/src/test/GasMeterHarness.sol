// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Test-only: forwards calls (so it can bond and post as a proposer) and measures the execution
///         gas of a call, which on Prague a transaction's receipt hides under the EIP-7623 calldata floor.
contract GasMeterHarness {
    function execute(address target, bytes calldata data) external payable returns (bytes memory ret) {
        bool ok;
        (ok, ret) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }

    /// Gas used by `target.call(data)`, the CALL itself included (2,600 for the cold account).
    function measure(address target, bytes calldata data) external returns (uint256 used) {
        uint256 before = gasleft();
        (bool ok, bytes memory ret) = target.call(data);
        used = before - gasleft();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
