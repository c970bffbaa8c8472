// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IRollup
/// @notice Bonded proposers append L2 batches (data as calldata, only hashes and roots stored); each
///         batch finalizes, strictly in order, once its challenge window has passed.
interface IRollup {
    /// Pending: in (or past) its window, not yet finalized. Finalized: its post root is final.
    /// Deleted: rolled back (by a fraud proof); its index is reused by the next appended batch.
    enum BatchStatus {
        Pending,
        Finalized,
        Deleted
    }

    /// One batch. Storage: the four roots/hashes take a slot each, the three u64 and the status share
    /// one slot, the proposer has the last. The pre-state root is the previous batch's `postRoot`
    /// (the genesis root for batch 0): see `prevRootOf`.
    struct Batch {
        bytes32 dataHash; // H(u8 version ‖ u64 timestamp ‖ u32 txCount ‖ txRoot)
        bytes32 postRoot;
        bytes32 traceRoot;
        bytes32 depositRollingHash; // the Bridge's rolling hash h_depositCount
        uint64 depositCount; // cumulative deposits consumed after this batch
        uint64 l2Timestamp; // from the batch header
        uint64 l1Timestamp; // block.timestamp when appended: the window runs from here
        BatchStatus status;
        address proposer;
    }

    event Bonded(address indexed proposer, uint256 amount);
    event Unbonded(address indexed proposer, uint256 amount);
    event BatchAppended(
        uint256 indexed index,
        address indexed proposer,
        bytes32 dataHash,
        bytes32 prevRoot,
        bytes32 postRoot,
        bytes32 traceRoot,
        uint64 depositCount,
        bytes32 depositRollingHash,
        uint64 l2Timestamp,
        uint64 l1Timestamp,
        uint32 txCount,
        bytes32 txRoot
    );
    event BatchFinalized(uint256 indexed index, bytes32 postRoot);
    /// Emitted by the rollback of a fraud proof, once per batch removed, last first.
    event BatchDeleted(uint256 indexed index, bytes32 postRoot);

    function bridge() external view returns (address);
    function genesisRoot() external view returns (bytes32);
    function bondAmount() external view returns (uint256);
    function challengeWindow() external view returns (uint256);

    function bond() external payable;
    function unbond() external;
    function bondOf(address proposer) external view returns (uint256);
    function pendingBatchesOf(address proposer) external view returns (uint256);

    function appendBatch(
        bytes calldata batchData,
        bytes32 prevRoot,
        bytes32 postRoot,
        bytes32 traceRoot,
        uint64 depositCount
    ) external returns (uint256 index);
    function finalize(uint256 maxBatches) external returns (uint256 finalized);

    function batchCount() external view returns (uint256);
    function finalizedCount() external view returns (uint256);
    function getBatch(uint256 index) external view returns (Batch memory);
    function prevRootOf(uint256 index) external view returns (bytes32);
    function isFinalized(uint256 index) external view returns (bool);
    function finalizedRoot(uint256 index) external view returns (bytes32);
    function lastRoot() external view returns (bytes32);
    function lastFinalizedRoot() external view returns (bytes32);
    /// How many of the next `maxBatches` unfinalized batches `finalize` would finalize now.
    function finalizable(uint256 maxBatches) external view returns (uint256);
}
