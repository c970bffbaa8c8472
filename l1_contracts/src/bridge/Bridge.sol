// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/deposits.py (deposit hash, rolling hash); the withdrawal leaf of protocol/records.py

import {
    AlreadyClaimed,
    DepositOutOfRange,
    DepositTooLarge,
    InvalidProof,
    NotDeployer,
    NotFinalized,
    RollupAlreadySet,
    RollupBridgeMismatch,
    RollupNotSet,
    TransferFailed,
    ZeroAddress,
    ZeroDeposit
} from "../Errors.sol";
import {IBridge} from "../interfaces/IBridge.sol";
import {IRollup} from "../interfaces/IRollup.sol";
import {MAX_AMOUNT} from "../ProtocolParams.sol";
import {SparseMerkle} from "../libraries/SparseMerkle.sol";
import {Records} from "../prover/Records.sol";

/// @title Bridge
/// @notice Holds the L1 ETH of the rollup. `deposit` appends to a queue whose rolling hash
///         (docs/spec.md section 4) the Rollup checks each batch against; `claimWithdrawal` pays an L2
///         withdrawal leaf (`H(0x07 ‖ u64 id)` → `recipient ‖ u128 amount`) once, on a sparse Merkle
///         proof against the post root of a finalized batch.
/// @dev Wiring: the Bridge is deployed first; its deployer then calls `setRollup` once with the Rollup
///      (whose constructor took this Bridge). After that no one has any special power. Deposits work
///      before the wiring; claims revert `RollupNotSet`.
contract Bridge is IBridge {
    address public immutable deployer;
    address public rollup;
    uint64 internal _depositCount; // shares the slot of `rollup`

    /// h_n for n ≥ 1 (h_0 = 0 is the mapping's default)
    mapping(uint256 count => bytes32) internal _rollingHashes;
    mapping(uint256 index => bytes32) internal _depositHashes;
    /// bit `id & 255` of word `id >> 8` is set once withdrawal `id` is paid
    mapping(uint256 word => uint256) internal _claimed;

    constructor() {
        deployer = msg.sender;
    }

    /// @notice Wire in the Rollup; only the deployer, only once, and only a Rollup built on this Bridge.
    function setRollup(address rollup_) external {
        if (msg.sender != deployer) revert NotDeployer();
        if (rollup != address(0)) revert RollupAlreadySet();
        if (rollup_ == address(0)) revert ZeroAddress();
        address rollupBridge = IRollup(rollup_).bridge();
        if (rollupBridge != address(this)) revert RollupBridgeMismatch(rollupBridge);
        rollup = rollup_;
        emit RollupSet(rollup_);
    }

    // --- deposits ------------------------------------------------------------------------------

    /// @notice Deposit `msg.value` wei (1 … 2^128-1) for `l2Recipient` on L2. Returns the deposit's index.
    function deposit(address l2Recipient) external payable returns (uint256 index) {
        if (l2Recipient == address(0)) revert ZeroAddress();
        if (msg.value == 0) revert ZeroDeposit();
        if (msg.value > MAX_AMOUNT) revert DepositTooLarge(msg.value);
        uint64 i = _depositCount;
        bytes32 dh = keccak256(abi.encodePacked(i, l2Recipient, uint128(msg.value)));
        bytes32 rh = keccak256(abi.encodePacked(_rollingHashes[i], dh));
        _depositHashes[i] = dh;
        _rollingHashes[uint256(i) + 1] = rh;
        _depositCount = i + 1;
        emit Deposited(i, l2Recipient, msg.sender, uint128(msg.value), dh, rh);
        return i;
    }

    function depositCount() external view returns (uint256) {
        return _depositCount;
    }

    function rollingHash(uint256 count) external view returns (bytes32) {
        uint256 n = _depositCount;
        if (count > n) revert DepositOutOfRange(count, n);
        return _rollingHashes[count];
    }

    function depositHash(uint256 index) external view returns (bytes32) {
        uint256 n = _depositCount;
        if (index >= n) revert DepositOutOfRange(index, n);
        return _depositHashes[index];
    }

    // --- withdrawals ---------------------------------------------------------------------------

    /// @notice Pay withdrawal `withdrawalId` (`amount` wei to `recipient`), proven by `proof` (compact
    ///         sparse Merkle proof bytes) against the post root of finalized batch `batchIndex`. Anyone
    ///         may submit it; the ETH goes to `recipient`. Each withdrawal is paid once.
    function claimWithdrawal(
        uint256 batchIndex,
        uint64 withdrawalId,
        address recipient,
        uint128 amount,
        bytes calldata proof
    ) external {
        IRollup r = IRollup(rollup);
        if (address(r) == address(0)) revert RollupNotSet();
        if (!r.isFinalized(batchIndex)) revert NotFinalized(batchIndex);
        uint256 word = withdrawalId >> 8;
        uint256 bit = uint256(1) << (withdrawalId & 255);
        uint256 bits = _claimed[word];
        if (bits & bit != 0) revert AlreadyClaimed(withdrawalId);
        bytes32 valueHash = keccak256(abi.encodePacked(recipient, amount));
        if (!SparseMerkle.verify(r.finalizedRoot(batchIndex), withdrawalKey(withdrawalId), true, valueHash, proof)) {
            revert InvalidProof();
        }
        _claimed[word] = bits | bit;
        emit WithdrawalClaimed(withdrawalId, recipient, batchIndex, amount);
        (bool ok,) = recipient.call{value: amount}("");
        if (!ok) revert TransferFailed(recipient, amount);
    }

    function isClaimed(uint64 withdrawalId) external view returns (bool) {
        return _claimed[withdrawalId >> 8] & (uint256(1) << (withdrawalId & 255)) != 0;
    }

    function withdrawalKey(uint64 withdrawalId) public pure returns (bytes32) {
        return Records.withdrawalKey(withdrawalId);
    }
}
