// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IBridge
/// @notice The L1 side of deposits and withdrawals: an ETH deposit queue with a rolling hash
///         (docs/spec.md section 4) and withdrawal claims proven against finalized L2 state roots.
interface IBridge {
    /// The Rollup was wired in (once, by the deployer).
    event RollupSet(address indexed rollup);
    /// Deposit `index` entered the queue; `rollingHash` is h_{index+1}.
    event Deposited(
        uint256 indexed index,
        address indexed l2Recipient,
        address indexed from,
        uint128 amount,
        bytes32 depositHash,
        bytes32 rollingHash
    );
    /// Withdrawal `withdrawalId` was paid to `recipient`, proven against batch `batchIndex`'s root.
    event WithdrawalClaimed(
        uint64 indexed withdrawalId, address indexed recipient, uint256 indexed batchIndex, uint128 amount
    );

    function deployer() external view returns (address);
    function rollup() external view returns (address);
    function setRollup(address rollup_) external;

    function deposit(address l2Recipient) external payable returns (uint256 index);
    function depositCount() external view returns (uint256);
    /// h_count: the rolling hash after the first `count` deposits (h_0 = 0); count ≤ depositCount().
    function rollingHash(uint256 count) external view returns (bytes32);
    /// H(u64 index ‖ recipient ‖ u128 amount) of deposit `index` < depositCount().
    function depositHash(uint256 index) external view returns (bytes32);

    function claimWithdrawal(
        uint256 batchIndex,
        uint64 withdrawalId,
        address recipient,
        uint128 amount,
        bytes calldata proof
    ) external;
    function isClaimed(uint64 withdrawalId) external view returns (bool);
    /// The state key of withdrawal `withdrawalId`: H(0x07 ‖ u64 withdrawalId).
    function withdrawalKey(uint64 withdrawalId) external pure returns (bytes32);
}
