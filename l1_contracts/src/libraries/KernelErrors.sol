// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: the BoundsError checks of protocol/models.py, protocol/kernels.py and protocol/tensors.py

// The custom errors of the fixed-point ML libraries (ModelSpec, PackedI32, MLKernels, Scoring,
// SharedSGD, TestSetRows), which the pure on-chain twins raise; the one-step prover checks the same
// rules without reverting (a tx that breaks one fails with INVALID_PARAMS). Each mirrors a
// `protocol.errors.BoundsError` of protocol/models.py, protocol/kernels.py or protocol/tensors.py.

/// A value lies outside `[-bound, bound]` (features, labels and weights: B = 2^24; shared-model points
/// 2^20 and weights 2^36; anything packed as i32). `index` is its position in the array checked.
error ValueOutOfBounds(uint256 index, int256 value, int256 bound);
/// A label is not valid for the architecture: LINREG [-B, B], LOGREG {0, 1}, MLP [0, outputs).
error InvalidLabel(uint256 index, int256 label);
/// `arch` is not 1 (LINREG), 2 (LOGREG) or 3 (MLP).
error UnknownArch(uint8 arch);
/// `inputs` is outside [1, MAX_MODEL_DIM].
error InputsOutOfRange(uint256 inputs);
/// LINREG and LOGREG take hidden = outputs = 0.
error HiddenOutputsNotZero(uint256 hidden, uint256 outputs);
/// MLP `hidden` is outside [1, MAX_MODEL_DIM].
error HiddenOutOfRange(uint256 hidden);
/// MLP `outputs` is outside [2, MAX_CLASSES].
error OutputsOutOfRange(uint256 outputs);
/// One sample takes more than MAX_STEP_MACS multiply-accumulates.
error TooManyMacs(uint256 macs);
/// The model has more than MAX_PARAMS parameters.
error TooManyParams(uint256 params);
/// An array's length does not fit the shapes it is used with.
error ShapeMismatch(uint256 length, uint256 expected);
/// A shared model's learning rate exceeds SHARED_LR_MAX.
error LearningRateTooHigh(uint256 learningRate);
