// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/transition.py (_deposit_step, _tx_step), protocol/fees.py, protocol/receipts.py (Reason)

import {StepContext} from "../interfaces/IOneStepProver.sol";
import {
    FEE_UNITS_PER_BYTE, FEE_UNITS_PER_MAC, FEE_UNITS_PER_STEP, MAX_AMOUNT, SHARED_CHUNK_POINTS
} from "../ProtocolParams.sol";
import {ModelSpec} from "../libraries/ModelSpec.sol";
import {IStepExecutor} from "./IStepExecutor.sol";
import {DepositOutOfOrder, JobStateInconsistent, WitnessInputMissing} from "./ProverErrors.sol";
import {Records} from "./Records.sol";
import {StepState} from "./StepState.sol";
import {TxCodec} from "./TxCodec.sol";
import {WitnessCodec} from "./WitnessCodec.sol";

/// @title TxExecutorBase
/// @notice A step that consumes an input (docs/spec.md sections 5 and 6), as `protocol.transition`'s
///         `_deposit_step` and `_tx_step` run it: a deposit credits its recipient; a tx is decoded,
///         its signature recovered (EIP-712, EIP-2 low s), its nonce checked, its fee charged
///         (`_chargeFee`, `protocol.fees.charge_fee`), then its type's rules run (`_handle`, in the
///         order of `protocol/txrules.py`). A tx that fails at any point changes nothing, not even the
///         nonce, and pays nothing; the step still consumes the input.
/// @dev Concrete provers implement `_handle` for some tx types; `OneStepProver` routes each tx by its
///      type byte. Reasons are `protocol.receipts.Reason`; they do not enter the step hash, but the
///      order of checks decides which keys a failing tx reads, so it is Python's.
abstract contract TxExecutorBase is IStepExecutor {
    using StepState for StepState.Accesses;

    uint256 internal constant OK = 0;
    uint256 internal constant DECODE_ERROR = 1;
    uint256 internal constant BAD_SIGNATURE = 2;
    uint256 internal constant BAD_NONCE = 3;
    uint256 internal constant INSUFFICIENT_BALANCE = 4;
    uint256 internal constant UNKNOWN_TASK = 5;
    uint256 internal constant UNKNOWN_MODEL = 6;
    uint256 internal constant WRONG_PHASE = 7;
    uint256 internal constant NOT_SUBMITTER = 8;
    uint256 internal constant ALREADY_COMMITTED = 9;
    uint256 internal constant NO_COMMITMENT = 10;
    uint256 internal constant HASH_MISMATCH = 11;
    uint256 internal constant INVALID_PARAMS = 12;
    uint256 internal constant FEE_PRICE_TOO_LOW = 13;
    uint256 internal constant FEE_UNPAID = 14;

    /// @inheritdoc IStepExecutor
    function execute(StepContext calldata ctx, bytes calldata witness) external view returns (bytes32) {
        (bytes32 postStepHash, ) = _execute(ctx, witness);
        return postStepHash;
    }

    /// The step hash after the step and, for a tx, its receipt reason (0 for a deposit).
    function _execute(StepContext calldata ctx, bytes calldata witness)
        internal
        view
        returns (bytes32 postStepHash, uint256 reason)
    {
        WitnessCodec.Witness memory w = WitnessCodec.parse(witness);
        if (w.jobKind != WitnessCodec.JOB_NONE) revert JobStateInconsistent(w.jobKind, 0);
        StepState.Accesses memory a = StepState.load(w, w.base + witness.length);
        bytes32 jobHash;
        if (w.preCursor < w.depositCount) {
            if (!w.hasDeposit) revert WitnessInputMissing(w.preCursor);
            _deposit(a, w);
        } else {
            if (!w.hasTx) revert WitnessInputMissing(w.preCursor);
            (reason, jobHash) = _tx(a, w, ctx);
            if (reason != OK) a.discardWrites();
        }
        postStepHash = WitnessCodec.stepHash(a.roll(w.preRoot), w.preCursor + 1, jobHash);
    }

    function _deposit(StepState.Accesses memory a, WitnessCodec.Witness memory w) private pure {
        Records.Meta memory m = _meta(a);
        if (w.depositIndex != m.depositCount) revert DepositOutOfOrder(w.depositIndex, m.depositCount);
        _credit(a, w.depositRecipient, w.depositAmount);
        m.depositCount += 1;
        _putMeta(a, m);
    }

    function _tx(StepState.Accesses memory a, WitnessCodec.Witness memory w, StepContext calldata ctx)
        private
        view
        returns (uint256 reason, bytes32 jobHash)
    {
        (bool ok, TxCodec.Tx memory t) = TxCodec.decode(w.txOffset, w.txLength);
        if (!ok) return (DECODE_ERROR, 0);
        address sender = TxCodec.sender(t, ctx.domainSeparator);
        if (sender == address(0)) return (BAD_SIGNATURE, 0);
        Records.Account memory account = _account(a, sender);
        if (t.f[0] != account.nonce) return (BAD_NONCE, 0);
        if (t.f[t.f.length - 1] < ctx.feePrice) return (FEE_PRICE_TOO_LOW, 0); // maxFeePrice, the last field
        if (!_chargeFee(a, t, sender, w.txLength, ctx)) return (FEE_UNPAID, 0);
        (reason, jobHash) = _handle(a, t, sender, w.timestamp);
        if (reason != OK) return (reason, 0);
        account = _account(a, sender); // the handler may have moved the sender's balance
        account.nonce += 1;
        _putAccount(a, sender, account);
    }

    /// `protocol.fees.charge_fee` after the price check: debit `fee_units * feePrice` from the sender
    /// and credit the fee recipient; false (FEE_UNPAID) when the balance is below the fee. A zero
    /// price charges nothing and touches no account. `size` is the raw tx's length.
    function _chargeFee(
        StepState.Accesses memory a,
        TxCodec.Tx memory t,
        address sender,
        uint256 size,
        StepContext calldata ctx
    ) private pure returns (bool) {
        (uint256 chunks, uint256 macs) = _jobWork(a, t);
        uint256 fee = (FEE_UNITS_PER_BYTE * size + FEE_UNITS_PER_STEP * (1 + chunks) + FEE_UNITS_PER_MAC * macs)
            * ctx.feePrice;
        if (fee == 0) return true;
        if (!_debit(a, sender, fee)) return false;
        _credit(a, ctx.feeRecipient, fee);
        return true;
    }

    /// `protocol.fees.job_work`: the chunks and MACs of the job a RevealModel (scoring the task's
    /// revealed test set) or a Train (epochs over the model's points) starts; (0, 0) otherwise.
    function _jobWork(StepState.Accesses memory a, TxCodec.Tx memory t)
        private
        pure
        returns (uint256 chunks, uint256 macs)
    {
        if (t.txType == TxCodec.REVEAL_MODEL) {
            (bool exists, Records.Task memory task) = _task(a, t.f[1]);
            if (!exists || task.flags & Records.FLAG_TEST_REVEALED == 0) return (0, 0);
            ModelSpec.Spec memory spec = ModelSpec.Spec(task.arch, task.inputs, task.hidden, task.outputs);
            uint256 k = ModelSpec.chunkSize(spec);
            return ((uint256(task.nTest) + k - 1) / k, uint256(task.nTest) * ModelSpec.macsPerSample(spec));
        }
        if (t.txType == TxCodec.TRAIN) {
            (bool exists, Records.SharedModel memory model) = _model(a, t.f[1]);
            if (!exists) return (0, 0);
            uint256 points = model.nPoints;
            uint256 perEpoch = (points + SHARED_CHUNK_POINTS - 1) / SHARED_CHUNK_POINTS;
            return (t.f[2] * perEpoch, t.f[2] * points * (uint256(model.nFeatures) + 1));
        }
    }

    /// The type's own rules (`protocol.txrules.HANDLERS`): the failure reason, or OK and the hash of
    /// the job the tx starts (0 for none).
    function _handle(StepState.Accesses memory a, TxCodec.Tx memory t, address sender, uint256 now_)
        internal
        pure
        virtual
        returns (uint256 reason, bytes32 jobHash);

    // --- the ledger (protocol.state.Ledger) ---------------------------------------------------------------

    function _meta(StepState.Accesses memory a) internal pure returns (Records.Meta memory) {
        (bool present, bytes memory raw) = a.get(Records.metaKey());
        return Records.decodeMeta(present, raw);
    }

    function _putMeta(StepState.Accesses memory a, Records.Meta memory m) internal pure {
        a.set(Records.metaKey(), Records.encodeMeta(m));
    }

    function _account(StepState.Accesses memory a, address who) internal pure returns (Records.Account memory) {
        (bool present, bytes memory raw) = a.get(Records.accountKey(who));
        return Records.decodeAccount(present, raw);
    }

    function _putAccount(StepState.Accesses memory a, address who, Records.Account memory account) internal pure {
        a.set(Records.accountKey(who), Records.encodeAccount(account));
    }

    /// `_debit`: false (INSUFFICIENT_BALANCE) when `amount` exceeds the balance.
    function _debit(StepState.Accesses memory a, address who, uint256 amount) internal pure returns (bool) {
        Records.Account memory account = _account(a, who);
        if (amount > account.balance) return false;
        account.balance -= uint128(amount);
        _putAccount(a, who, account);
        return true;
    }

    /// `credit`: add `amount`, saturating at MAX_AMOUNT (2^128 - 1).
    function _credit(StepState.Accesses memory a, address who, uint256 amount) internal pure {
        Records.Account memory account = _account(a, who);
        uint256 balance = uint256(account.balance) + amount;
        account.balance = balance > MAX_AMOUNT ? uint128(MAX_AMOUNT) : uint128(balance);
        _putAccount(a, who, account);
    }

    /// The task `taskId`, `exists` false when absent.
    function _task(StepState.Accesses memory a, uint256 taskId)
        internal
        pure
        returns (bool exists, Records.Task memory task)
    {
        bytes memory raw;
        (exists, raw) = a.get(Records.taskKey(uint64(taskId)));
        if (exists) task = Records.decodeTask(raw);
    }

    function _putTask(StepState.Accesses memory a, uint256 taskId, Records.Task memory task) internal pure {
        a.set(Records.taskKey(uint64(taskId)), Records.encodeTask(task));
    }

    /// The shared model `modelId`, `exists` false when absent.
    function _model(StepState.Accesses memory a, uint256 modelId)
        internal
        pure
        returns (bool exists, Records.SharedModel memory model)
    {
        bytes memory raw;
        (exists, raw) = a.get(Records.modelKey(uint64(modelId)));
        if (exists) model = Records.decodeModel(raw);
    }
}
