// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    AlreadyBonded,
    BatchNotFinalized,
    BondLocked,
    DepositCountDecreased,
    DepositCountTooHigh,
    EmptyBatch,
    InvalidParameter,
    NoSuchBatch,
    NotBonded,
    PrevRootMismatch,
    TimestampDecreased,
    TimestampInFuture,
    TransferFailed,
    WrongBondAmount,
    ZeroAddress
} from "../Errors.sol";
import {IBridge} from "../interfaces/IBridge.sol";
import {IRollup} from "../interfaces/IRollup.sol";
import {BatchCodec} from "../libraries/BatchCodec.sol";

/// @title Rollup
/// @notice The chain of L2 batches. A bonded proposer appends a batch (its data as calldata; the contract
///         parses the framing and stores the data hash, the roots, the deposit position and the times);
///         a batch finalizes once `challengeWindow` seconds have passed since it was appended, strictly in
///         order; the Bridge pays withdrawals against finalized post roots.
/// @dev Room for the fraud proof (a later contract extending this one):
///      - batch `i`'s pre-state root is `prevRootOf(i)`; its inputs are deposits
///        `[getBatch(i-1).depositCount, getBatch(i).depositCount)` of the Bridge, then its txs;
///      - `finalize` stops at the first batch that is not `Pending` (a challenged status added later stops
///        it the same way);
///      - `_deleteFrom(i)` rolls back batches `i…` (their statuses become `Deleted`, their proposers'
///        pending counts drop, `batchCount()` becomes `i`): since every batch keeps its own cumulative
///        deposit count, rolling hash and timestamp, the next batch is checked against batch `i-1` and the
///        deposits of the deleted batches are consumed again;
///      - each proposer's bond stays locked while it has pending batches (`pendingBatchesOf`), so a
///        slashable bond is always there.
contract Rollup is IRollup {
    IBridge internal immutable _bridge;
    bytes32 public immutable genesisRoot;
    uint256 public immutable bondAmount;
    uint256 public immutable challengeWindow;

    mapping(uint256 index => Batch) internal _batches;
    uint128 internal _batchCount;
    uint128 internal _finalizedCount;
    mapping(address proposer => uint256) public bondOf;
    mapping(address proposer => uint256) public pendingBatchesOf;

    /// @param bridge_ the Bridge whose deposit queue batches consume
    /// @param genesisRoot_ the L2 state root before batch 0
    /// @param bondAmount_ the exact bond (wei, > 0) a proposer locks with `bond()`
    /// @param challengeWindow_ seconds from a batch's append until it can finalize (0: at once)
    constructor(address bridge_, bytes32 genesisRoot_, uint256 bondAmount_, uint256 challengeWindow_) {
        if (bridge_ == address(0)) revert ZeroAddress();
        if (bondAmount_ == 0 || challengeWindow_ > type(uint64).max) revert InvalidParameter();
        _bridge = IBridge(bridge_);
        genesisRoot = genesisRoot_;
        bondAmount = bondAmount_;
        challengeWindow = challengeWindow_;
    }

    // --- bonds ---------------------------------------------------------------------------------

    /// @notice Lock exactly `bondAmount` wei to become a proposer.
    function bond() external payable {
        if (bondOf[msg.sender] != 0) revert AlreadyBonded();
        if (msg.value != bondAmount) revert WrongBondAmount(msg.value, bondAmount);
        bondOf[msg.sender] = msg.value;
        emit Bonded(msg.sender, msg.value);
    }

    /// @notice Take the bond back; only when every batch the caller appended is final (or deleted).
    function unbond() external virtual {
        uint256 amount = bondOf[msg.sender];
        if (amount == 0) revert NotBonded();
        uint256 pending = pendingBatchesOf[msg.sender];
        if (pending != 0) revert BondLocked(pending);
        bondOf[msg.sender] = 0;
        emit Unbonded(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    // --- batches -------------------------------------------------------------------------------

    /// @notice Append a batch. `prevRoot` must be the last batch's post root (the genesis root first);
    ///         `depositCount` is the cumulative number of Bridge deposits consumed after this batch: at
    ///         least the previous batch's, at most the Bridge's queue length. The batch's L2 timestamp
    ///         (from its header) must not go back and not be ahead of the L1 block. A batch must consume
    ///         at least one tx or deposit.
    function appendBatch(
        bytes calldata batchData,
        bytes32 prevRoot,
        bytes32 postRoot,
        bytes32 traceRoot,
        uint64 depositCount
    ) external virtual returns (uint256 index) {
        if (bondOf[msg.sender] == 0) revert NotBonded();
        index = _batchCount;
        bytes32 expectedPrev = genesisRoot;
        uint64 prevDeposits;
        uint64 prevTimestamp;
        if (index != 0) {
            Batch storage last = _batches[index - 1];
            expectedPrev = last.postRoot;
            prevDeposits = last.depositCount;
            prevTimestamp = last.l2Timestamp;
        }
        if (prevRoot != expectedPrev) revert PrevRootMismatch(expectedPrev, prevRoot);
        if (depositCount < prevDeposits) revert DepositCountDecreased(prevDeposits, depositCount);
        uint256 available = _bridge.depositCount();
        if (depositCount > available) revert DepositCountTooHigh(depositCount, available);

        BatchCodec.Header memory header = BatchCodec.parse(batchData);
        if (header.timestamp < prevTimestamp) revert TimestampDecreased(prevTimestamp, header.timestamp);
        if (header.timestamp > block.timestamp) revert TimestampInFuture(header.timestamp, block.timestamp);
        if (header.txCount == 0 && depositCount == prevDeposits) revert EmptyBatch();

        bytes32 dataHash = BatchCodec.dataHash(header);
        bytes32 rolling = _bridge.rollingHash(depositCount);
        _batches[index] = Batch({
            dataHash: dataHash,
            postRoot: postRoot,
            traceRoot: traceRoot,
            depositRollingHash: rolling,
            depositCount: depositCount,
            l2Timestamp: header.timestamp,
            l1Timestamp: uint64(block.timestamp),
            status: BatchStatus.Pending,
            proposer: msg.sender
        });
        _batchCount = uint128(index + 1);
        ++pendingBatchesOf[msg.sender];
        emit BatchAppended(
            index,
            msg.sender,
            dataHash,
            prevRoot,
            postRoot,
            traceRoot,
            depositCount,
            rolling,
            header.timestamp,
            uint64(block.timestamp),
            header.txCount,
            header.txRoot
        );
    }

    /// @notice Finalize, in order, up to `maxBatches` batches whose window has passed; anyone may call.
    ///         Returns how many it finalized (0 is not an error).
    function finalize(uint256 maxBatches) external virtual returns (uint256 finalized) {
        uint256 start = _finalizedCount;
        uint256 n = _finalizable(start, maxBatches);
        for (uint256 i = start; i < start + n; ++i) {
            Batch storage b = _batches[i];
            b.status = BatchStatus.Finalized;
            --pendingBatchesOf[b.proposer];
            emit BatchFinalized(i, b.postRoot);
        }
        if (n != 0) _finalizedCount = uint128(start + n);
        return n;
    }

    // --- views ---------------------------------------------------------------------------------

    function bridge() external view returns (address) {
        return address(_bridge);
    }

    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    function finalizedCount() external view returns (uint256) {
        return _finalizedCount;
    }

    function getBatch(uint256 index) external view returns (Batch memory) {
        _requireBatch(index);
        return _batches[index];
    }

    /// @notice The pre-state root of batch `index`.
    function prevRootOf(uint256 index) external view returns (bytes32) {
        _requireBatch(index);
        return index == 0 ? genesisRoot : _batches[index - 1].postRoot;
    }

    function isFinalized(uint256 index) public view returns (bool) {
        return index < _finalizedCount;
    }

    function finalizedRoot(uint256 index) external view returns (bytes32) {
        if (!isFinalized(index)) revert BatchNotFinalized(index);
        return _batches[index].postRoot;
    }

    function lastRoot() external view returns (bytes32) {
        uint256 count = _batchCount;
        return count == 0 ? genesisRoot : _batches[count - 1].postRoot;
    }

    function lastFinalizedRoot() external view returns (bytes32) {
        uint256 count = _finalizedCount;
        return count == 0 ? genesisRoot : _batches[count - 1].postRoot;
    }

    function finalizable(uint256 maxBatches) external view returns (uint256) {
        return _finalizable(_finalizedCount, maxBatches);
    }

    // --- internals -----------------------------------------------------------------------------

    /// Number of consecutive batches from `start` (at most `maxBatches`) that are Pending with their
    /// window passed.
    function _finalizable(uint256 start, uint256 maxBatches) internal view virtual returns (uint256 n) {
        uint256 count = _batchCount;
        uint256 window = challengeWindow;
        while (n < maxBatches && start + n < count) {
            Batch storage b = _batches[start + n];
            if (b.status != BatchStatus.Pending || block.timestamp < b.l1Timestamp + window) break;
            ++n;
        }
    }

    /// Rolls back batches `index…batchCount()-1`, last first (for the fraud proof). `index` must not be
    /// finalized.
    function _deleteFrom(uint256 index) internal virtual {
        uint256 count = _batchCount;
        if (index >= count || index < _finalizedCount) revert NoSuchBatch(index, count);
        for (uint256 i = count; i > index;) {
            --i;
            Batch storage b = _batches[i];
            b.status = BatchStatus.Deleted;
            --pendingBatchesOf[b.proposer];
            emit BatchDeleted(i, b.postRoot);
        }
        _batchCount = uint128(index);
    }

    function _requireBatch(uint256 index) internal view {
        uint256 count = _batchCount;
        if (index >= count) revert NoSuchBatch(index, count);
    }
}
