// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/witness.py (reexecute: the witness bound to the batch, one step)

import {IBridge} from "../interfaces/IBridge.sol";
import {IOneStepProver, StepContext} from "../interfaces/IOneStepProver.sol";
import {MerkleList} from "../libraries/MerkleList.sol";
import {IStepExecutor} from "./IStepExecutor.sol";
import {
    DepositNotInQueue,
    TxNotInBatch,
    WitnessDepositCountMismatch,
    WitnessHeaderMismatch,
    WitnessInputMissing,
    WrongBridge
} from "./ProverErrors.sol";
import {TxCodec} from "./TxCodec.sol";
import {WitnessCodec} from "./WitnessCodec.sol";

/// @title OneStepProver
/// @notice The dispatch of the L1 one-step prover (docs/spec.md section 8): decodes the witness, binds
///         it to the batch (the header hashes to the stored batch data hash, the deposit count is the
///         batch's, a deposit is the Bridge's deposit `depositStart + cursor`, a tx is leaf
///         `cursor - depositCount` of the tx root), picks the step kind and hands the step to its
///         executor: `TxProver` (deposits, plain txs, undecodable txs), `TensorTxProver`
///         (RevealTestSet, RevealModel, AddData) or `JobProver` (SCORE and TRAIN chunks).
/// @dev The executors are separate contracts because together they exceed EIP-170's 24,576 bytes.
///      The result equals `protocol.witness.reexecute(decode_witness(witness), domain, fees).step_hash`.
contract OneStepProver is IOneStepProver {
    /// The post step hash of a step asked of a finished machine: no trace leaf can equal it.
    bytes32 public constant NO_STEP = keccak256("mlrollup.no-step");

    /// The Bridge whose deposit queue the batches consume: `StepContext.bridge` must be it.
    address public immutable bridge;
    IStepExecutor public immutable txProver;
    IStepExecutor public immutable tensorTxProver;
    IStepExecutor public immutable jobProver;

    constructor(address bridge_, IStepExecutor txProver_, IStepExecutor tensorTxProver_, IStepExecutor jobProver_) {
        bridge = bridge_;
        txProver = txProver_;
        tensorTxProver = tensorTxProver_;
        jobProver = jobProver_;
    }

    /// @inheritdoc IOneStepProver
    function proveStep(StepContext calldata ctx, bytes calldata witness)
        external
        view
        returns (bytes32 preStepHash, bytes32 postStepHash)
    {
        if (ctx.bridge != bridge) revert WrongBridge(bridge, ctx.bridge);
        WitnessCodec.Witness memory w = WitnessCodec.parse(witness);
        bytes32 header = keccak256(
            abi.encodePacked(uint8(w.version), uint64(w.timestamp), uint32(w.txCount), w.txRoot)
        );
        if (header != ctx.batchDataHash) revert WitnessHeaderMismatch(ctx.batchDataHash, header);
        uint256 deposits = ctx.depositEnd >= ctx.depositStart ? ctx.depositEnd - ctx.depositStart : 0;
        if (w.depositCount != deposits) revert WitnessDepositCountMismatch(deposits, w.depositCount);
        preStepHash = WitnessCodec.stepHash(w.preRoot, w.preCursor, WitnessCodec.jobHash(w));

        IStepExecutor executor;
        if (w.jobKind != WitnessCodec.JOB_NONE) {
            executor = jobProver;
        } else if (w.preCursor >= w.depositCount + w.txCount) {
            return (preStepHash, NO_STEP);
        } else if (w.preCursor < w.depositCount) {
            _bindDeposit(ctx, w);
            executor = txProver;
        } else {
            _bindTx(w);
            uint256 txType = w.txLength == 0 ? 0 : WitnessCodec.load(w.txOffset, 1);
            bool tensor = txType == TxCodec.REVEAL_TEST_SET || txType == TxCodec.REVEAL_MODEL
                || txType == TxCodec.ADD_DATA;
            executor = tensor ? tensorTxProver : txProver;
        }
        postStepHash = executor.execute(ctx, witness);
    }

    function _bindDeposit(StepContext calldata ctx, WitnessCodec.Witness memory w) private view {
        if (!w.hasDeposit) revert WitnessInputMissing(w.preCursor);
        uint256 index = uint256(ctx.depositStart) + w.preCursor;
        bytes32 h = keccak256(abi.encodePacked(uint64(w.depositIndex), w.depositRecipient, uint128(w.depositAmount)));
        if (w.depositIndex != index || IBridge(ctx.bridge).depositHash(index) != h) revert DepositNotInQueue(index);
    }

    function _bindTx(WitnessCodec.Witness memory w) private pure {
        uint256 index = w.preCursor - w.depositCount;
        if (!w.hasTx || w.txIndex != index) revert WitnessInputMissing(w.preCursor);
        bytes32[] memory proof = new bytes32[](w.txProofCount);
        for (uint256 i; i < proof.length; ++i) {
            proof[i] = bytes32(WitnessCodec.load(w.txProofOffset + 32 * i, 32));
        }
        bytes32 leaf;
        uint256 off = w.txOffset;
        uint256 len = w.txLength;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, off, len)
            leaf := keccak256(ptr, len)
        }
        if (!MerkleList.verify(w.txRoot, leaf, index, w.txCount, proof)) revert TxNotInBatch(index);
    }
}
