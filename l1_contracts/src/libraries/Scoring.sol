// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/kernels.py (score_chunk, final_score)

import {ELEMENT_MAX, FIXED_SCALE} from "../ProtocolParams.sol";
import {ShapeMismatch, ValueOutOfBounds} from "./KernelErrors.sol";
import {MLKernels} from "./MLKernels.sol";
import {ModelSpec} from "./ModelSpec.sol";
import {PackedI32} from "./PackedI32.sol";

/// @title Scoring
/// @notice The three task scores of docs/spec.md section 7: a sample adds (z - y)² for LINREG,
/// (p - y·S)² for LOGREG (the Brier score) and 1 for a correct class for MLP to the accumulator; the
/// score is minus the mean over the samples in units of S (LINREG, LOGREG) or the count (MLP).
/// Higher is better.
/// @dev A squared error is at most 2^50 and a score sum over 2^16 samples at most 2^66: no overflow.
library Scoring {
    using ModelSpec for ModelSpec.Spec;

    /// A chunk's addition to the score accumulator for x (n×d flat) and labels y (n): LINREG
    /// Σ (z - y)², LOGREG Σ (p - y·S)² (Brier), MLP the count of correct classes. Checks shapes,
    /// bounds and labels.
    function scoreSum(ModelSpec.Spec memory spec, int256[] memory w, int256[] memory x, int256[] memory y)
        internal
        pure
        returns (uint256 acc)
    {
        uint256 n = MLKernels.checkModelInputs(spec, w, x);
        if (y.length != n) revert ShapeMismatch(y.length, n);
        int256[] memory hid = new int256[](spec.hidden);
        int256[] memory z = new int256[](spec.outputs);
        for (uint256 r; r < n; ) {
            int256 label = y[r];
            spec.checkLabel(r, label);
            unchecked {
                acc += sampleScore(spec, MLKernels.predictOne(spec, w, x, r * spec.inputs, hid, z), label);
                ++r;
            }
        }
    }

    /// `scoreSum` over packed rows, the layout of test chunks: per sample `i32 × inputs ‖ i32 label`
    /// big-endian. Returns the accumulator and the number of samples. Checks bounds and labels.
    function scoreRows(ModelSpec.Spec memory spec, int256[] memory w, bytes memory rows)
        internal
        pure
        returns (uint256 acc, uint256 n)
    {
        return _scoreRows(spec, w, rows, true);
    }

    /// `scoreRows` as the state transition scores a stored test chunk (`protocol.kernels.score_chunk`):
    /// labels are only bounded by [-B, B] (a label outside the architecture's range, which RevealTestSet
    /// never stores, scores as a miss or by its squared error instead of reverting).
    function scoreChunk(ModelSpec.Spec memory spec, int256[] memory w, bytes memory rows)
        internal
        pure
        returns (uint256 acc, uint256 n)
    {
        return _scoreRows(spec, w, rows, false);
    }

    /// One sample's addition to the accumulator: (pred - y)², (p - y·S)², or 1 for a correct class.
    function sampleScore(ModelSpec.Spec memory spec, int256 pred, int256 label) internal pure returns (uint256) {
        if (spec.arch == ModelSpec.MLP) return pred == label ? 1 : 0;
        int256 e = pred - (spec.arch == ModelSpec.LINREG ? label : label * FIXED_SCALE);
        return uint256(e * e);
    }

    /// The task score from the accumulator over n >= 1 samples: -tdiv(acc, n·S) for LINREG and
    /// LOGREG (minus a mean squared error in units of S), acc for MLP. Higher is better.
    function finalScore(ModelSpec.Spec memory spec, uint256 acc, uint256 n) internal pure returns (int256) {
        if (n == 0) revert ShapeMismatch(0, 1);
        if (spec.arch == ModelSpec.MLP) return int256(acc);
        return -int256(acc / (n * uint256(FIXED_SCALE))); // acc >= 0: floor division is truncation
    }

    function _scoreRows(ModelSpec.Spec memory spec, int256[] memory w, bytes memory rows, bool labelsByArch)
        private
        pure
        returns (uint256 acc, uint256 n)
    {
        uint256 d = spec.inputs;
        uint256 rowValues = d + 1;
        if (rows.length % (4 * rowValues) != 0) revert ShapeMismatch(rows.length, 4 * rowValues);
        if (w.length != spec.paramCount()) revert ShapeMismatch(w.length, spec.paramCount());
        MLKernels.checkBounds(w, ELEMENT_MAX);
        n = rows.length / (4 * rowValues);
        int256[] memory x = new int256[](d);
        int256[] memory hid = new int256[](spec.hidden);
        int256[] memory z = new int256[](spec.outputs);
        for (uint256 r; r < n; ) {
            uint256 base;
            unchecked {
                base = r * rowValues;
            }
            PackedI32.unpackInto(rows, base, d, x, ELEMENT_MAX);
            int256 label = PackedI32.readI32Unchecked(rows, base + d);
            if (labelsByArch) spec.checkLabel(r, label);
            else if (label < -ELEMENT_MAX || label > ELEMENT_MAX) revert ValueOutOfBounds(base + d, label, ELEMENT_MAX);
            unchecked {
                acc += sampleScore(spec, MLKernels.predictOne(spec, w, x, 0, hid, z), label);
                ++r;
            }
        }
    }
}
