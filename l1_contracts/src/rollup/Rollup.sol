// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    AlreadyBonded,
    AlreadyChallenged,
    BatchNotFinalized,
    BondLocked,
    ChallengeWindowClosed,
    DeadlineNotReached,
    DeadlinePassed,
    DepositCountDecreased,
    DepositCountTooHigh,
    EmptyBatch,
    EmptyTrace,
    HeaderMismatch,
    InvalidParameter,
    InvalidStepProof,
    LastStepCorrect,
    NoSuchBatch,
    NotBonded,
    NotDirectCall,
    NotBatchProposer,
    NothingToWithdraw,
    PreStepMismatch,
    PrevRootMismatch,
    StepCorrect,
    StepOutOfRange,
    TimestampDecreased,
    TimestampInFuture,
    TooManySteps,
    TraceRootMismatch,
    TransferFailed,
    WrongBondAmount,
    WrongChallengePhase,
    WrongChallengerBond,
    ZeroAddress
} from "../Errors.sol";
import {EIP712_NAME_HASH, EIP712_VERSION_HASH, MAX_FEE_PRICE, PROTOCOL_VERSION} from "../ProtocolParams.sol";
import {IBridge} from "../interfaces/IBridge.sol";
import {IOneStepProver, StepContext} from "../interfaces/IOneStepProver.sol";
import {IRollup} from "../interfaces/IRollup.sol";
import {BatchCodec} from "../libraries/BatchCodec.sol";
import {MerkleList} from "../libraries/MerkleList.sol";

/// @title Rollup
/// @notice The chain of L2 batches and the fraud-proof game over them (docs/spec.md section 9).
///         A bonded proposer appends a batch (its data as calldata; the contract parses the framing and
///         stores the data hash, the roots, the deposit position and the times); a batch finalizes once
///         `challengeWindow` seconds have passed since it was appended, strictly in order, unless it is
///         challenged; the Bridge pays withdrawals against finalized post roots.
/// @dev The game takes at most three transactions a side (DESIGN.md point 7):
///      1. `challenge(i)` with the challenger bond, inside batch i's window: the batch is `Challenged`
///         and neither it nor any later batch finalizes until the challenge resolves;
///      2. `revealSteps(i, hashes)` within `responseWindow`: the list must have the committed trace root;
///         the hashes stay in calldata, the count is stored (else `timeout(i)`: the challenger wins);
///      3. `proveFraud(i, step, …)` (a step re-executed by the one-step prover differs from the trace) or
///         `proveBadLastStep(i, …)` (the trace does not end in the post root), within `proofWindow`
///         (else `timeout(i)`: the proposer wins the challenger's bond and the batch may finalize).
///      The challenger winning deletes batch i and every later batch, takes the proposer's whole bond
///      (`challengerShareBps` of it credited to the challenger, the rest locked here for ever: counted in
///      `burnedTotal`, no function can move it) and returns the challenger's bond. Only the proposer
///      reveals (it answers for its own list); anyone may prove (the reward still goes to the
///      challenger), so a challenger colluding with a bad proposer cannot protect a wrong batch by
///      challenging and then walking away. Every payout is credited (`payoutOf`) and taken with
///      `withdrawPayout`, so no recipient can block the game by refusing ETH.
contract Rollup is IRollup {
    /// H("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    bytes32 internal constant DOMAIN_TYPEHASH = 0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f;
    uint256 internal constant BPS = 10_000;

    IBridge internal immutable _bridge;
    bytes32 public immutable genesisRoot;
    uint256 public immutable bondAmount;
    uint256 public immutable challengeWindow;
    address public immutable prover;
    uint256 public immutable challengerBond;
    uint256 public immutable responseWindow;
    uint256 public immutable proofWindow;
    uint256 public immutable challengerShareBps;
    /// The EIP-712 domain of L2 txs (name "mlrollup", version "1", this chain, this contract).
    bytes32 public immutable domainSeparator;
    /// The L2 fee schedule (docs/spec.md section 6): wei a fee unit, and the L2 address every fee is
    /// credited to. Every role reads them here; the one-step prover gets them in `StepContext`.
    uint64 public immutable feePrice;
    address public immutable feeRecipient;

    mapping(uint256 index => Batch) internal _batches;
    uint128 internal _batchCount;
    uint128 internal _finalizedCount;
    mapping(address proposer => uint256) public bondOf;
    mapping(address proposer => uint256) public pendingBatchesOf;
    /// The open challenge of each batch index (cleared when it resolves or its batch is deleted).
    mapping(uint256 index => Challenge) internal _challenges;
    /// Wei credited by the game (rewards, returned and forfeited challenger bonds), taken with
    /// `withdrawPayout`.
    mapping(address account => uint256) public payoutOf;
    /// Wei of slashed bonds not given to challengers: locked in this contract for ever.
    uint256 public burnedTotal;

    /// @param bridge_ the Bridge whose deposit queue batches consume
    /// @param genesisRoot_ the L2 state root before batch 0
    /// @param bondAmount_ the exact bond (wei, > 0) a proposer locks with `bond()`
    /// @param challengeWindow_ seconds from a batch's append until it can finalize (0: at once, and
    ///        then it cannot be challenged)
    /// @param prover_ the one-step prover (IOneStepProver) `proveFraud` re-executes a step with
    /// @param challengerBond_ the exact bond (wei, > 0) a challenge locks
    /// @param responseWindow_ seconds (1 … 2^32-1) the step hashes may be revealed after a challenge
    /// @param proofWindow_ seconds (1 … 2^32-1) a fraud proof may be sent after the reveal
    /// @param challengerShareBps_ the part (basis points, ≤ 10,000) of a slashed bond the challenger gets
    /// @param feePrice_ wei an L2 fee unit (≤ 2^64-1, the most a tx's signed `maxFeePrice` can be; 0:
    ///        txs are free)
    /// @param feeRecipient_ the L2 address credited with every fee (non-zero)
    constructor(
        address bridge_,
        bytes32 genesisRoot_,
        uint256 bondAmount_,
        uint256 challengeWindow_,
        address prover_,
        uint256 challengerBond_,
        uint256 responseWindow_,
        uint256 proofWindow_,
        uint256 challengerShareBps_,
        uint256 feePrice_,
        address feeRecipient_
    ) {
        if (bridge_ == address(0) || prover_ == address(0) || feeRecipient_ == address(0)) revert ZeroAddress();
        if (
            bondAmount_ == 0 || challengeWindow_ > type(uint64).max || challengerBond_ == 0
                || responseWindow_ == 0 || responseWindow_ > type(uint32).max || proofWindow_ == 0
                || proofWindow_ > type(uint32).max || challengerShareBps_ > BPS || feePrice_ > MAX_FEE_PRICE
        ) revert InvalidParameter();
        feePrice = uint64(feePrice_);
        feeRecipient = feeRecipient_;
        _bridge = IBridge(bridge_);
        genesisRoot = genesisRoot_;
        bondAmount = bondAmount_;
        challengeWindow = challengeWindow_;
        prover = prover_;
        challengerBond = challengerBond_;
        responseWindow = responseWindow_;
        proofWindow = proofWindow_;
        challengerShareBps = challengerShareBps_;
        domainSeparator = keccak256(
            abi.encode(DOMAIN_TYPEHASH, EIP712_NAME_HASH, EIP712_VERSION_HASH, block.chainid, address(this))
        );
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
        _requireDirectCall();
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

    // --- the fraud-proof game ------------------------------------------------------------------

    /// @notice Challenge batch `batchIndex` with exactly `challengerBond` wei: only a Pending batch (no
    ///         open challenge), before `l1Timestamp + challengeWindow`. A batch whose challenge the proposer
    ///         won may be challenged again while its window is still open (the window does not restart).
    function challenge(uint256 batchIndex) external payable {
        _requireBatch(batchIndex);
        Batch storage b = _batches[batchIndex];
        if (msg.value != challengerBond) revert WrongChallengerBond(msg.value, challengerBond);
        if (b.status == BatchStatus.Challenged) revert AlreadyChallenged(batchIndex);
        uint256 closesAt = uint256(b.l1Timestamp) + challengeWindow;
        // a Finalized batch is past its window too: finalization needs the window to have passed
        if (block.timestamp >= closesAt || b.status != BatchStatus.Pending) {
            revert ChallengeWindowClosed(batchIndex, closesAt);
        }
        b.status = BatchStatus.Challenged;
        uint64 deadline = uint64(block.timestamp + responseWindow);
        _challenges[batchIndex] = Challenge({
            challenger: msg.sender, deadline: deadline, phase: ChallengePhase.AwaitingReveal, stepCount: 0
        });
        emit Challenged(batchIndex, msg.sender, deadline);
    }

    /// @notice Answer a challenge with the batch's step hashes, in order, before the reveal deadline. Only
    ///         the batch's proposer may: a list root does not fix the list's length (trailing zero leaves,
    ///         or a level of internal nodes revealed as leaves, give the same root), so a reveal by anyone
    ///         else could make an honest trace look wrong. The hashes stay in this transaction's calldata;
    ///         the contract keeps their count and opens the proof window.
    function revealSteps(uint256 batchIndex, bytes32[] calldata stepHashes) external {
        Challenge storage c = _challengeIn(batchIndex, ChallengePhase.AwaitingReveal);
        address proposer = _batches[batchIndex].proposer;
        if (msg.sender != proposer) revert NotBatchProposer(batchIndex, proposer);
        uint256 n = stepHashes.length;
        // a batch consumes at least one input (appendBatch rejects empty ones), so it has a step
        if (n == 0) revert EmptyTrace();
        if (n > type(uint24).max) revert TooManySteps(n, type(uint24).max);
        bytes32 traceRoot = _batches[batchIndex].traceRoot;
        bytes32 computed = MerkleList.rootCalldata(stepHashes);
        if (computed != traceRoot) revert TraceRootMismatch(traceRoot, computed);
        uint64 deadline = uint64(block.timestamp + proofWindow);
        c.deadline = deadline;
        c.phase = ChallengePhase.AwaitingProof;
        c.stepCount = uint24(n);
        emit StepsRevealed(batchIndex, msg.sender, n, deadline);
    }

    /// @notice Prove that step `stepIndex` of the revealed trace is wrong: `postLeaf` (leaf `stepIndex`,
    ///         with its list proof) is not what the one-step prover computes from `witness`, which must
    ///         start at `preLeaf` (leaf `stepIndex - 1` with its proof; for step 0 both are ignored and
    ///         the pre leaf is `H(prevRoot ‖ u32 0 ‖ 0)`). Proofs are bottom-first siblings for a list of
    ///         the revealed count. Anyone may send it before the proof deadline; the challenger is paid.
    function proveFraud(
        uint256 batchIndex,
        uint256 stepIndex,
        bytes32 preLeaf,
        bytes32[] calldata preProof,
        bytes32 postLeaf,
        bytes32[] calldata postProof,
        bytes calldata witness
    ) external {
        Challenge storage c = _challengeIn(batchIndex, ChallengePhase.AwaitingProof);
        uint256 count = c.stepCount;
        if (stepIndex >= count) revert StepOutOfRange(stepIndex, count);
        bytes32 traceRoot = _batches[batchIndex].traceRoot;
        bytes32 expectedPre;
        if (stepIndex == 0) {
            expectedPre = keccak256(abi.encodePacked(_prevRoot(batchIndex), uint32(0), bytes32(0)));
        } else {
            if (!MerkleList.verify(traceRoot, preLeaf, stepIndex - 1, count, preProof)) {
                revert InvalidStepProof(stepIndex - 1);
            }
            expectedPre = preLeaf;
        }
        if (!MerkleList.verify(traceRoot, postLeaf, stepIndex, count, postProof)) revert InvalidStepProof(stepIndex);
        (bytes32 pre, bytes32 post) = IOneStepProver(prover).proveStep(stepContext(batchIndex), witness);
        if (pre != expectedPre) revert PreStepMismatch(expectedPre, pre);
        if (post == postLeaf) revert StepCorrect(stepIndex);
        _challengerWins(batchIndex, c, Resolution.FraudProven, stepIndex);
    }

    /// @notice Prove that the revealed trace does not end in the batch's post root: its last leaf (with
    ///         its list proof) is not `H(postRoot ‖ u32 inputCount ‖ 0)`, `inputCount` being the deposits
    ///         the batch consumed plus its `txCount`. The header fields must hash to the stored data hash.
    function proveBadLastStep(
        uint256 batchIndex,
        bytes32 lastLeaf,
        bytes32[] calldata proof,
        uint64 l2Timestamp,
        uint32 txCount,
        bytes32 txRoot
    ) external {
        Challenge storage c = _challengeIn(batchIndex, ChallengePhase.AwaitingProof);
        Batch storage b = _batches[batchIndex];
        bytes32 dataHash = BatchCodec.hashHeader(uint8(PROTOCOL_VERSION), l2Timestamp, txCount, txRoot);
        if (dataHash != b.dataHash) revert HeaderMismatch(b.dataHash, dataHash);
        uint256 count = c.stepCount;
        if (!MerkleList.verify(b.traceRoot, lastLeaf, count - 1, count, proof)) revert InvalidStepProof(count - 1);
        uint256 inputCount = uint256(b.depositCount) - _depositStart(batchIndex) + txCount;
        // inputCount < 2^32: at most MAX_BATCH_TXS txs, and deposits are bounded by what a batch can carry
        bytes32 expected = keccak256(abi.encodePacked(b.postRoot, uint32(inputCount), bytes32(0)));
        if (lastLeaf == expected) revert LastStepCorrect(lastLeaf);
        _challengerWins(batchIndex, c, Resolution.BadLastStep, count - 1);
    }

    /// @notice Settle a challenge whose deadline has passed; anyone may call. No reveal in time: the
    ///         challenger wins as if fraud were proven. No proof in time: the challenger's bond is credited
    ///         to the proposer and the batch is Pending again (it finalizes once its window has passed).
    function timeout(uint256 batchIndex) external {
        Challenge storage c = _challenges[batchIndex];
        ChallengePhase phase = c.phase;
        if (phase == ChallengePhase.None) revert WrongChallengePhase(batchIndex, uint256(phase));
        if (block.timestamp < c.deadline) revert DeadlineNotReached(c.deadline);
        if (phase == ChallengePhase.AwaitingReveal) {
            _challengerWins(batchIndex, c, Resolution.RevealTimeout, 0);
            return;
        }
        address challenger = c.challenger;
        Batch storage b = _batches[batchIndex];
        delete _challenges[batchIndex];
        b.status = BatchStatus.Pending;
        payoutOf[b.proposer] += challengerBond;
        emit ChallengeResolved(batchIndex, challenger, Resolution.ProofTimeout, 0);
    }

    /// @notice Take everything the game credited to the caller.
    function withdrawPayout() external {
        uint256 amount = payoutOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        payoutOf[msg.sender] = 0;
        emit PayoutWithdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    /// @notice The batch facts the one-step prover binds a witness to, built from this contract's storage.
    function stepContext(uint256 batchIndex) public view returns (StepContext memory) {
        _requireBatch(batchIndex);
        return StepContext({
            domainSeparator: domainSeparator,
            batchDataHash: _batches[batchIndex].dataHash,
            depositStart: _depositStart(batchIndex),
            depositEnd: _batches[batchIndex].depositCount,
            bridge: address(_bridge),
            feePrice: feePrice,
            feeRecipient: feeRecipient
        });
    }

    function getChallenge(uint256 batchIndex) external view returns (Challenge memory) {
        return _challenges[batchIndex];
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
        return _prevRoot(index);
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

    /// Data availability: only a top-level call by an EOA without (EIP-7702 delegated) code puts
    /// `batchData` in the transaction's own calldata; a relayed call could hide it from verifiers.
    function _requireDirectCall() internal view virtual {
        if (msg.sender != tx.origin || msg.sender.code.length != 0) revert NotDirectCall(msg.sender);
    }

    /// Rolls back batches `index…batchCount()-1`, last first. `index` must not be finalized. A deleted
    /// batch's open challenge ends (BatchRolledBack) with the challenger's bond credited back.
    function _deleteFrom(uint256 index) internal virtual {
        uint256 count = _batchCount;
        if (index >= count || index < _finalizedCount) revert NoSuchBatch(index, count);
        for (uint256 i = count; i > index;) {
            --i;
            Batch storage b = _batches[i];
            if (b.status == BatchStatus.Challenged) {
                address challenger = _challenges[i].challenger;
                delete _challenges[i];
                payoutOf[challenger] += challengerBond;
                emit ChallengeResolved(i, challenger, Resolution.BatchRolledBack, 0);
            }
            b.status = BatchStatus.Deleted;
            --pendingBatchesOf[b.proposer];
            emit BatchDeleted(i, b.postRoot);
        }
        _batchCount = uint128(index);
    }

    /// The challenger of batch `index` won: the proposer's whole bond is slashed (its share to the
    /// challenger, the rest burned), the challenger's bond comes back, and the batch and every later
    /// one are deleted. A proposer with no bond left (slashed before) loses nothing more.
    function _challengerWins(uint256 index, Challenge storage c, Resolution resolution, uint256 stepIndex)
        internal
    {
        address challenger = c.challenger;
        address proposer = _batches[index].proposer;
        // closed before the rollback, which would otherwise treat it as a later batch's challenge
        delete _challenges[index];
        _batches[index].status = BatchStatus.Pending;
        uint256 slashed = bondOf[proposer];
        bondOf[proposer] = 0;
        uint256 reward = slashed * challengerShareBps / BPS;
        burnedTotal += slashed - reward;
        payoutOf[challenger] += challengerBond + reward;
        emit ProposerSlashed(proposer, index, slashed, reward, slashed - reward);
        emit ChallengeResolved(index, challenger, resolution, stepIndex);
        _deleteFrom(index);
    }

    /// The open challenge of batch `index` in `phase`, before its deadline.
    function _challengeIn(uint256 index, ChallengePhase phase) internal view returns (Challenge storage c) {
        c = _challenges[index];
        if (c.phase != phase) revert WrongChallengePhase(index, uint256(c.phase));
        if (block.timestamp >= c.deadline) revert DeadlinePassed(c.deadline);
    }

    function _prevRoot(uint256 index) internal view returns (bytes32) {
        return index == 0 ? genesisRoot : _batches[index - 1].postRoot;
    }

    /// Cumulative deposits consumed before batch `index`.
    function _depositStart(uint256 index) internal view returns (uint64) {
        return index == 0 ? 0 : _batches[index - 1].depositCount;
    }

    function _requireBatch(uint256 index) internal view {
        uint256 count = _batchCount;
        if (index >= count) revert NoSuchBatch(index, count);
    }
}
