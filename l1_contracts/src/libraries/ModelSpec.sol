// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/models.py

import {
    ELEMENT_MAX, MAX_CHUNK_SAMPLES, MAX_CLASSES, MAX_MODEL_DIM, MAX_PARAMS, MAX_STEP_MACS
} from "../ProtocolParams.sol";
import {
    HiddenOutOfRange,
    HiddenOutputsNotZero,
    InputsOutOfRange,
    InvalidLabel,
    OutputsOutOfRange,
    TooManyMacs,
    TooManyParams,
    UnknownArch
} from "./KernelErrors.sol";

/// @title ModelSpec
/// @notice The registry of competition architectures (docs/spec.md section 7), as protocol/models.py
/// writes it: the three architectures, a task's dims and their bounds (`validateSpec`, in
/// `validate_spec`'s order), the sizes derived from them (parameters, multiply-accumulates a sample,
/// samples a scoring chunk) and which labels an architecture takes.
library ModelSpec {
    uint8 internal constant LINREG = 1;
    uint8 internal constant LOGREG = 2;
    uint8 internal constant MLP = 3;

    /// A task's architecture and dims; build it with `validateSpec` so its bounds hold.
    struct Spec {
        uint8 arch;
        uint256 inputs; // d
        uint256 hidden; // h (MLP), else 0
        uint256 outputs; // c (MLP), else 0
    }

    /// The spec of CreateTask's dims, or the error naming the first rule they break, in the order
    /// of protocol.models.validate_spec.
    function validateSpec(uint8 arch, uint256 inputs, uint256 hidden, uint256 outputs)
        internal
        pure
        returns (Spec memory spec)
    {
        if (arch != LINREG && arch != LOGREG && arch != MLP) revert UnknownArch(arch);
        if (inputs < 1 || inputs > MAX_MODEL_DIM) revert InputsOutOfRange(inputs);
        if (arch != MLP) {
            if (hidden != 0 || outputs != 0) revert HiddenOutputsNotZero(hidden, outputs);
        } else {
            if (hidden < 1 || hidden > MAX_MODEL_DIM) revert HiddenOutOfRange(hidden);
            if (outputs < 2 || outputs > MAX_CLASSES) revert OutputsOutOfRange(outputs);
        }
        spec = Spec(arch, inputs, hidden, outputs);
        uint256 macs = macsPerSample(spec);
        if (macs > MAX_STEP_MACS) revert TooManyMacs(macs);
        uint256 params = paramCount(spec);
        if (params > MAX_PARAMS) revert TooManyParams(params);
    }

    /// Length of the flat weights: d + 1, or d·h + h + h·c + c for an MLP.
    function paramCount(Spec memory spec) internal pure returns (uint256) {
        (uint256 d, uint256 h, uint256 c) = (spec.inputs, spec.hidden, spec.outputs);
        return spec.arch != MLP ? d + 1 : d * h + h + h * c + c;
    }

    /// Multiply-accumulates to score one sample: d, or d·h + h·c for an MLP.
    function macsPerSample(Spec memory spec) internal pure returns (uint256) {
        (uint256 d, uint256 h, uint256 c) = (spec.inputs, spec.hidden, spec.outputs);
        return spec.arch != MLP ? d : d * h + h * c;
    }

    /// Test samples a scoring chunk holds: max(1, min(MAX_CHUNK_SAMPLES, MAX_STEP_MACS / macs)).
    function chunkSize(Spec memory spec) internal pure returns (uint256 k) {
        k = MAX_STEP_MACS / macsPerSample(spec);
        if (k > MAX_CHUNK_SAMPLES) k = MAX_CHUNK_SAMPLES;
        if (k == 0) k = 1;
    }

    /// Revert `InvalidLabel` unless `label` suits the architecture: [-B, B], {0, 1} or [0, c).
    function checkLabel(Spec memory spec, uint256 index, int256 label) internal pure {
        if (!labelOk(spec, label)) revert InvalidLabel(index, label);
    }

    /// Whether `label` suits the architecture (`ModelSpec.label_ok`): [-B, B], {0, 1} or [0, c).
    function labelOk(Spec memory spec, int256 label) internal pure returns (bool) {
        if (spec.arch == LINREG) return label >= -ELEMENT_MAX && label <= ELEMENT_MAX;
        if (spec.arch == LOGREG) return label == 0 || label == 1;
        return label >= 0 && label < int256(spec.outputs);
    }

    /// Whether CreateTask's dims pass `validateSpec` (`protocol.models.validate_spec` raises
    /// otherwise), without reverting: a tx with invalid dims fails with INVALID_PARAMS.
    function specValid(uint8 arch, uint256 inputs, uint256 hidden, uint256 outputs) internal pure returns (bool) {
        if (arch != LINREG && arch != LOGREG && arch != MLP) return false;
        if (inputs < 1 || inputs > MAX_MODEL_DIM) return false;
        if (arch != MLP) {
            if (hidden != 0 || outputs != 0) return false;
        } else {
            if (hidden < 1 || hidden > MAX_MODEL_DIM) return false;
            if (outputs < 2 || outputs > MAX_CLASSES) return false;
        }
        Spec memory spec = Spec(arch, inputs, hidden, outputs);
        return macsPerSample(spec) <= MAX_STEP_MACS && paramCount(spec) <= MAX_PARAMS;
    }
}
