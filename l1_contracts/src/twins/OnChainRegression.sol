// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/txrules.py (CreateModel, AddData, Train) with protocol/kernels.py's shared_sgd, entirely on L1

import {SHARED_LR_MAX, SHARED_W_MAX, SHARED_X_MAX} from "../ProtocolParams.sol";
import {LearningRateTooHigh, ValueOutOfBounds} from "../libraries/KernelErrors.sol";
import {SharedSGD} from "../libraries/SharedSGD.sol";
import {NoData} from "./TwinErrors.sol";

/// @title OnChainRegression
/// @notice The paper's experiment (Table I) entirely on L1: a one-feature linear regression whose
/// data points are stored in the contract and trained by per-sample SGD in Solidity, with the
/// protocol's shared-model arithmetic (docs/spec.md section 7, scale 10^7), so that it reaches the
/// L2 shared model's weights to the bit on the same data.
contract OnChainRegression {
    /// A stored data point; |x|, |y| <= 2^20, one storage slot.
    struct Point {
        int128 x;
        int128 y;
    }

    // one slot: the weights (|w| <= 2^36) and the epochs trained
    int96 private _w0;
    int96 private _w1;
    uint64 private _epochs;
    /// The learning rate, scaled by 10^7 (the paper's 1e-4 is 1000), at most 2^16.
    uint256 public immutable learningRate;
    Point[] private _points;

    event PointAdded(uint256 indexed index, int256 x, int256 y);
    event EpochTrained(uint256 indexed epoch, int256 w0, int256 w1);

    /// Initial weights (bias first, scaled by 10^7, |w| <= 2^36) and the learning rate (<= 2^16).
    constructor(int256 w0, int256 w1, uint256 learningRate_) {
        if (learningRate_ > SHARED_LR_MAX) revert LearningRateTooHigh(learningRate_);
        _checkBound(0, w0, SHARED_W_MAX);
        _checkBound(1, w1, SHARED_W_MAX);
        (_w0, _w1) = (int96(w0), int96(w1));
        learningRate = learningRate_;
    }

    /// Store one point, after the others; |x|, |y| <= 2^20 (SHARED_X_MAX).
    function addData(int256 x, int256 y) external {
        _checkBound(0, x, SHARED_X_MAX);
        _checkBound(1, y, SHARED_X_MAX);
        _points.push(Point(int128(x), int128(y)));
        emit PointAdded(_points.length - 1, x, y);
    }

    /// One epoch of per-sample SGD over every stored point, in order.
    function train() external {
        uint256 n = _points.length;
        if (n == 0) revert NoData();
        int256 lr = int256(learningRate);
        (int256 w0, int256 w1) = (_w0, _w1);
        for (uint256 i; i < n; ) {
            Point storage p = _points[i];
            (w0, w1) = SharedSGD.sgdStep1(w0, w1, p.x, p.y, lr);
            unchecked {
                ++i;
            }
        }
        uint64 epoch = _epochs + 1;
        (_w0, _w1, _epochs) = (int96(w0), int96(w1), epoch); // |w| <= 2^36 by the clamps
        emit EpochTrained(epoch, w0, w1);
    }

    /// The weights (bias first), scaled by 10^7.
    function weights() external view returns (int256, int256) {
        return (_w0, _w1);
    }

    /// The number of stored points.
    function pointCount() external view returns (uint256) {
        return _points.length;
    }

    /// The epochs trained so far.
    function epochsTrained() external view returns (uint256) {
        return _epochs;
    }

    /// Point `index` as (x, y).
    function point(uint256 index) external view returns (int256, int256) {
        Point storage p = _points[index];
        return (p.x, p.y);
    }

    function _checkBound(uint256 index, int256 v, int256 bound) private pure {
        if (v > bound || v < -bound) revert ValueOutOfBounds(index, v, bound);
    }
}
