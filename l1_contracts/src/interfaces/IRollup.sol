// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IRollup
/// @notice Bonded proposers append L2 batches (data as calldata, only hashes and roots stored); each
///         batch finalizes, strictly in order, once its challenge window has passed.
interface IRollup {
    /// Pending: in (or past) its window, not yet finalized. Finalized: its post root is final.
    /// Deleted: rolled back (by a fraud proof); its index is reused by the next appended batch.
    /// Challenged: a challenge is open; neither it nor any later batch finalizes until it resolves.
    enum BatchStatus {
        Pending,
        Finalized,
        Deleted,
        Challenged
    }

    /// Where a batch's challenge stands. None: no open challenge. AwaitingReveal: the step hashes are
    /// due by `deadline`. AwaitingProof: revealed; a proof of fraud is due by `deadline`.
    enum ChallengePhase {
        None,
        AwaitingReveal,
        AwaitingProof
    }

    /// How a challenge ended. The challenger wins with FraudProven (a step re-executed differently),
    /// BadLastStep (the trace does not end in the batch's post root) or RevealTimeout (no reveal in
    /// time); the proposer wins with ProofTimeout (no proof in time); BatchRolledBack: an earlier
    /// batch's fraud proof deleted the challenged batch, and the challenger's bond was returned.
    enum Resolution {
        FraudProven,
        BadLastStep,
        RevealTimeout,
        ProofTimeout,
        BatchRolledBack
    }

    /// One open challenge; one storage slot.
    struct Challenge {
        address challenger; // who posted the challenger bond; receives the reward if fraud is shown
        uint64 deadline; // of the reveal (AwaitingReveal) or of the proof (AwaitingProof)
        ChallengePhase phase;
        uint24 stepCount; // the revealed trace length (AwaitingProof)
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
    event Challenged(uint256 indexed batchIndex, address indexed challenger, uint64 revealDeadline);
    /// The step hashes are in the calldata of the transaction that emitted this.
    event StepsRevealed(uint256 indexed batchIndex, address indexed revealer, uint256 stepCount, uint64 proofDeadline);
    /// `stepIndex` is the step proven wrong for FraudProven, 0 otherwise.
    event ChallengeResolved(
        uint256 indexed batchIndex, address indexed challenger, Resolution resolution, uint256 stepIndex
    );
    /// The proposer of a batch proven wrong lost its whole bond: `toChallenger` of it is credited to the
    /// challenger, `burned` stays locked in the Rollup for ever.
    event ProposerSlashed(
        address indexed proposer, uint256 indexed batchIndex, uint256 amount, uint256 toChallenger, uint256 burned
    );
    event PayoutWithdrawn(address indexed to, uint256 amount);

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

    // --- the fraud-proof game ---

    function prover() external view returns (address);
    function challengerBond() external view returns (uint256);
    function responseWindow() external view returns (uint256);
    function proofWindow() external view returns (uint256);
    function challengerShareBps() external view returns (uint256);
    function domainSeparator() external view returns (bytes32);
    /// Wei a fee unit of L2 txs, and the L2 address credited with every fee (docs/spec.md section 6).
    function feePrice() external view returns (uint64);
    function feeRecipient() external view returns (address);
    function burnedTotal() external view returns (uint256);
    function payoutOf(address account) external view returns (uint256);
    function getChallenge(uint256 batchIndex) external view returns (Challenge memory);

    function challenge(uint256 batchIndex) external payable;
    function revealSteps(uint256 batchIndex, bytes32[] calldata stepHashes) external;
    function proveFraud(
        uint256 batchIndex,
        uint256 stepIndex,
        bytes32 preLeaf,
        bytes32[] calldata preProof,
        bytes32 postLeaf,
        bytes32[] calldata postProof,
        bytes calldata witness
    ) external;
    function proveBadLastStep(
        uint256 batchIndex,
        bytes32 lastLeaf,
        bytes32[] calldata proof,
        uint64 l2Timestamp,
        uint32 txCount,
        bytes32 txRoot
    ) external;
    function timeout(uint256 batchIndex) external;
    function withdrawPayout() external;
}
