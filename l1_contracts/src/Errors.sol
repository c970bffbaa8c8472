// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Every custom error of the Rollup, the Bridge and their libraries, in one place.
// `l1_contracts.bindings` decodes a revert's 4-byte selector against these and raises the
// `L1Error` subclass of the same name.

// --- generic ---------------------------------------------------------------------------------

/// A constructor or setter was given the zero address.
error ZeroAddress();
/// An ETH transfer out of a contract failed (the recipient reverted or ran out of gas).
error TransferFailed(address to, uint256 amount);

// --- SparseMerkle (docs/spec.md section 2) ----------------------------------------------------

/// Compact proof bytes that are not exactly one canonical encoding, or an OTHER terminal that is the
/// proven key itself or off its path, or an OTHER terminal offered for a key claimed present.
/// `reason`: see the `MALFORMED_*` constants of `SparseMerkle`.
error MalformedSmtProof(uint256 reason);
/// `SparseMerkle.update`: the proof does not show the claimed old value under the root.
error SmtRootMismatch(bytes32 root, bytes32 computed);

// --- BatchCodec (docs/spec.md section 4) ------------------------------------------------------

/// The batch data ends inside the header, a length prefix or a tx (`offset` is where it needed more).
error BatchTruncated(uint256 offset);
/// The batch's version byte is not PROTOCOL_VERSION.
error BatchVersion(uint256 version);
/// The header counts more than MAX_BATCH_TXS txs.
error BatchTooManyTxs(uint256 count);
/// Tx `index` is longer than MAX_TX_BYTES.
error BatchTxTooLong(uint256 index, uint256 length);
/// Bytes follow the last tx.
error BatchTrailingBytes(uint256 extra);

// --- Bridge -----------------------------------------------------------------------------------

/// `setRollup` by someone other than the deployer.
error NotDeployer();
/// `setRollup` called a second time.
error RollupAlreadySet();
/// `setRollup` with a Rollup whose `bridge()` is not this Bridge.
error RollupBridgeMismatch(address rollupBridge);
/// `claimWithdrawal` before `setRollup`.
error RollupNotSet();
/// A deposit of zero wei.
error ZeroDeposit();
/// A deposit above type(uint128).max wei (L2 amounts are uint128).
error DepositTooLarge(uint256 amount);
/// `depositHash(i)` / `rollingHash(n)` past the queue.
error DepositOutOfRange(uint256 index, uint256 count);
/// The claimed batch is not finalized (still in its window, or does not exist).
error NotFinalized(uint256 batchIndex);
/// The withdrawal was already paid.
error AlreadyClaimed(uint64 withdrawalId);
/// The proof does not show the withdrawal leaf under the batch's post-state root.
error InvalidProof();

// --- Rollup -----------------------------------------------------------------------------------

/// A constructor parameter out of range.
error InvalidParameter();
/// `bond()` with a value other than the required bond.
error WrongBondAmount(uint256 sent, uint256 required);
/// `bond()` by a proposer that already holds a bond.
error AlreadyBonded();
/// `appendBatch` / `unbond` by an address without a bond.
error NotBonded();
/// `unbond` while some of the proposer's batches are not final.
error BondLocked(uint256 pendingBatches);
/// `prevRoot` is not the post root of the last batch (or the genesis root).
error PrevRootMismatch(bytes32 expected, bytes32 given);
/// The cumulative deposit count went down.
error DepositCountDecreased(uint256 previous, uint256 given);
/// The cumulative deposit count exceeds the Bridge's queue.
error DepositCountTooHigh(uint256 given, uint256 available);
/// The batch's L2 timestamp is before the previous batch's.
error TimestampDecreased(uint256 previous, uint256 given);
/// The batch's L2 timestamp is after the L1 block's.
error TimestampInFuture(uint256 given, uint256 blockTimestamp);
/// A batch with no txs and no new deposits.
error EmptyBatch();
/// A batch index at or past `batchCount()`.
error NoSuchBatch(uint256 index, uint256 count);
/// `finalizedRoot(i)` of a batch that is not final.
error BatchNotFinalized(uint256 index);
