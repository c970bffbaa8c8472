// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StepContext} from "../interfaces/IOneStepProver.sol";
import {TensorTxProver} from "../prover/TensorTxProver.sol";
import {TxCodec} from "../prover/TxCodec.sol";
import {TxProver} from "../prover/TxProver.sol";

/// @notice Test-only: TxCodec's decoding, struct hash, digest and signer of one raw tx.
contract ProverCodecHarness {
    function decode(bytes calldata raw, bytes32 domainSeparator)
        external
        view
        returns (bool ok, uint256 txType, bytes32 structHash, bytes32 digest, address signer)
    {
        uint256 start;
        assembly ("memory-safe") {
            start := raw.offset
        }
        TxCodec.Tx memory t;
        (ok, t) = TxCodec.decode(start, raw.length);
        if (!ok) return (false, 0, 0, 0, address(0));
        return (true, t.txType, t.structHash, TxCodec.digest(t, domainSeparator), TxCodec.sender(t, domainSeparator));
    }
}

/// @notice Test-only: `TxProver` with the receipt reason of a tx step (not part of the step hash).
contract ProverTxHarness is TxProver {
    function executeWithReason(StepContext calldata ctx, bytes calldata witness)
        external
        view
        returns (bytes32 postStepHash, uint256 reason)
    {
        return _execute(ctx, witness);
    }
}

/// @notice Test-only: `TensorTxProver` with the receipt reason of a tx step.
contract ProverTensorTxHarness is TensorTxProver {
    function executeWithReason(StepContext calldata ctx, bytes calldata witness)
        external
        view
        returns (bytes32 postStepHash, uint256 reason)
    {
        return _execute(ctx, witness);
    }
}
