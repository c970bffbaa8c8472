// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Test-only: an attacker contract that, when paid, calls back into the payer once with the
///         calldata it was armed with (a second claim, payout or unbond), and records how that call
///         ended, so a test can show the re-entry was refused by name and no ETH was paid twice.
contract ReentrantRecipientHarness {
    address public target;
    bytes public reentry;
    uint256 public payments;
    bool public reentered;
    bool public reentryOk;
    bytes public reentryResult;

    /// @notice Act on `target_` as this contract (to bond, challenge or withdraw from it).
    function execute(address target_, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target_.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    /// @notice The call to make from `receive` when next paid.
    function arm(address target_, bytes calldata data) external {
        target = target_;
        reentry = data;
    }

    receive() external payable {
        payments += 1;
        if (reentered || target == address(0)) return;
        reentered = true;
        (reentryOk, reentryResult) = target.call(reentry);
    }
}
