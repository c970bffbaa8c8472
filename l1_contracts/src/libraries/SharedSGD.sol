// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/kernels.py (shared_sgd)

import {SHARED_ERR_MAX, SHARED_LR_MAX, SHARED_MAX_FEATURES, SHARED_SCALE, SHARED_W_MAX} from "../ProtocolParams.sol";
import {LearningRateTooHigh, ShapeMismatch} from "./KernelErrors.sol";
import {MLKernels} from "./MLKernels.sol";

/// @title SharedSGD
/// @notice The shared models' training rule of docs/spec.md section 7, the paper's linear regression:
/// per-sample SGD on integer weights scaled by SHARED_SCALE, with the error and the weights clamped.
library SharedSGD {
    /// Revert unless a shared model's weights, learning rate and a point are in bounds.
    function checkShared(int256[] memory w, uint256 lr) internal pure {
        if (w.length < 2 || w.length > SHARED_MAX_FEATURES + 1) {
            revert ShapeMismatch(w.length, SHARED_MAX_FEATURES + 1);
        }
        if (lr > SHARED_LR_MAX) revert LearningRateTooHigh(lr);
        MLKernels.checkBounds(w, SHARED_W_MAX);
    }

    /// One per-sample SGD update of spec section 7, in place on w (bias first, f+1 weights):
    /// pred = tdiv(w0 + Σ w[i+1]·x[i], 10^7); err = clamp(y - pred, ±2^24);
    /// w[0] = clamp(w0 - lr·(-2·err), ±2^36); w[i+1] = clamp(w[i+1] - lr·(-2·x[i]·err), ±2^36).
    /// @dev Callers bound |x|, |y| <= 2^20, |w| <= 2^36, lr <= 2^16: every term stays below 2^62.
    function sgdStep(int256[] memory w, int256[] memory x, int256 y, int256 lr) internal pure {
        uint256 f = x.length;
        if (w.length != f + 1) revert ShapeMismatch(w.length, f + 1);
        unchecked {
            int256 s = w[0];
            for (uint256 i; i < f; ++i) s += w[i + 1] * x[i];
            int256 err = MLKernels.clamp(y - s / SHARED_SCALE, -SHARED_ERR_MAX, SHARED_ERR_MAX);
            w[0] = MLKernels.clamp(w[0] - lr * (-2 * err), -SHARED_W_MAX, SHARED_W_MAX);
            for (uint256 i; i < f; ++i) {
                w[i + 1] = MLKernels.clamp(w[i + 1] - lr * (-2 * x[i] * err), -SHARED_W_MAX, SHARED_W_MAX);
            }
        }
    }

    /// `sgdStep` for one feature on scalars (the paper's model): returns the new (w0, w1).
    function sgdStep1(int256 w0, int256 w1, int256 x, int256 y, int256 lr)
        internal
        pure
        returns (int256, int256)
    {
        unchecked {
            int256 err = MLKernels.clamp(y - (w0 + w1 * x) / SHARED_SCALE, -SHARED_ERR_MAX, SHARED_ERR_MAX);
            return (
                MLKernels.clamp(w0 - lr * (-2 * err), -SHARED_W_MAX, SHARED_W_MAX),
                MLKernels.clamp(w1 - lr * (-2 * x * err), -SHARED_W_MAX, SHARED_W_MAX)
            );
        }
    }
}
