// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

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

/// @title FixedPointML
/// @notice The integer ML kernels of docs/spec.md section 7, bit for bit as protocol/reference.py:
/// fixed point with scale S = 2^16 and bound B = 2^24, `tdiv` truncating toward zero (Solidity's
/// signed `/`), `layer = clamp(tdiv(x·W, S) + b, -B, B)`, ReLU, the monotone piecewise sigmoid,
/// first-max-wins argmax, the three task scores, and the shared model's per-sample SGD.
/// @dev Arrays are `int256[] memory`. Every entry point that takes untrusted values checks their
/// bounds first; after that, no product or sum can overflow int256 (|x·W| <= 2^12·2^48 = 2^60, a
/// squared error <= 2^50, a score sum over 2^16 samples <= 2^66), so the hot loops run unchecked,
/// with inline memory reads. Used by the pure on-chain twins and the L1 one-step prover.
library FixedPointML {
    // --- the protocol's constants (protocol/params.py) ------------------------------------------
    int256 internal constant SCALE = 1 << 16; // S
    int256 internal constant BOUND = 1 << 24; // B = ELEMENT_MAX
    uint256 internal constant MAX_MODEL_DIM = 4096;
    uint256 internal constant MAX_CLASSES = 64;
    uint256 internal constant MAX_PARAMS = 16_384;
    uint256 internal constant MAX_TEST_SAMPLES = 65_536;
    uint256 internal constant MAX_STEP_MACS = 16_384;
    uint256 internal constant MAX_CHUNK_SAMPLES = 64;

    int256 internal constant SHARED_SCALE = 1e7;
    int256 internal constant SHARED_X_MAX = 1 << 20;
    int256 internal constant SHARED_W_MAX = 1 << 36;
    int256 internal constant SHARED_ERR_MAX = 1 << 24;
    uint256 internal constant SHARED_LR_MAX = 1 << 16;
    uint256 internal constant SHARED_MAX_FEATURES = 8;

    uint256 private constant NONE = type(uint256).max; // no index

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

    // --- scalar kernels ---------------------------------------------------------------------------

    /// a / b truncated toward zero: tdiv(-7, 2) == -3. Reverts on b == 0 (and on int256.min / -1).
    function tdiv(int256 a, int256 b) internal pure returns (int256) {
        return a / b;
    }

    /// min(max(v, lo), hi).
    function clamp(int256 v, int256 lo, int256 hi) internal pure returns (int256) {
        int256 m = v < lo ? lo : v;
        return m > hi ? hi : m;
    }

    /// max(z, 0).
    function relu(int256 z) internal pure returns (int256) {
        return z > 0 ? z : int256(0);
    }

    /// The piecewise-linear sigmoid of spec section 7, in [0, S]: a = |z|;
    /// y = a/4 + S/2 if a < S, else min(a/8 + 5S/8, a/32 + 27S/32, S); S - y for z < 0.
    function sigmoid(int256 z) internal pure returns (int256 y) {
        int256 a = z < 0 ? -z : z;
        if (a < SCALE) {
            y = a / 4 + SCALE / 2;
        } else {
            int256 u = a / 8 + (5 * SCALE) / 8;
            int256 v = a / 32 + (27 * SCALE) / 32;
            y = u < v ? u : v;
            if (y > SCALE) y = SCALE;
        }
        if (z < 0) y = SCALE - y;
    }

    /// Index of the maximum of z[off .. off+len), the first one on ties. len >= 1.
    function argmax(int256[] memory z, uint256 off, uint256 len) internal pure returns (uint256 best) {
        if (len == 0 || off + len > z.length) revert ShapeMismatch(z.length, off + len);
        int256 top = z[off];
        for (uint256 j = 1; j < len; ) {
            int256 v = z[off + j];
            if (v > top) (top, best) = (v, j);
            unchecked {
                ++j;
            }
        }
    }

    // --- bounds ------------------------------------------------------------------------------------

    /// Revert `ValueOutOfBounds` unless every element lies in [-bound, bound] (bound >= 0).
    function checkBounds(int256[] memory v, int256 bound) internal pure {
        uint256 bad = NONE;
        assembly ("memory-safe") {
            let p := add(v, 0x20)
            let end := add(p, shl(5, mload(v)))
            let span := shl(1, bound)
            for {} lt(p, end) { p := add(p, 0x20) } {
                // v in [-bound, bound] iff v + bound, read unsigned, is at most 2·bound
                if gt(add(mload(p), bound), span) {
                    bad := shr(5, sub(p, add(v, 0x20)))
                    break
                }
            }
        }
        if (bad != NONE) revert ValueOutOfBounds(bad, v[bad], bound);
    }

    /// Calldata i32 values as int256, each checked against [-bound, bound] (bound < 2^31, so the
    /// check also rejects a word that is not a clean int32).
    function fromI32(int32[] calldata v, int256 bound) internal pure returns (int256[] memory out) {
        uint256 n = v.length;
        out = new int256[](n);
        uint256 bad = NONE;
        int256 value;
        assembly ("memory-safe") {
            let src := v.offset
            let dst := add(out, 0x20)
            let end := add(dst, shl(5, n))
            let span := shl(1, bound)
            for {} lt(dst, end) {
                src := add(src, 0x20)
                dst := add(dst, 0x20)
            } {
                let e := calldataload(src)
                if gt(add(e, bound), span) {
                    bad := shr(5, sub(src, v.offset))
                    value := e
                    break
                }
                mstore(dst, e)
            }
        }
        if (bad != NONE) revert ValueOutOfBounds(bad, value, bound);
    }

    /// Packed big-endian i32 values (length a multiple of 4) as int256, each checked against
    /// [-bound, bound].
    function unpackI32(bytes memory data, int256 bound) internal pure returns (int256[] memory out) {
        if (data.length % 4 != 0) revert ShapeMismatch(data.length, 4);
        uint256 n = data.length / 4;
        out = new int256[](n);
        _unpackInto(data, 0, n, out, bound);
    }

    // --- the registry of architectures (protocol/models.py) ----------------------------------------

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
        if (spec.arch == LINREG) return label >= -BOUND && label <= BOUND;
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

    /// Check packed rows (`i32 × inputs ‖ i32 label` per sample): |feature| <= B and each label
    /// valid for the architecture. Returns the number of samples.
    function checkRows(Spec memory spec, bytes memory rows) internal pure returns (uint256 n) {
        uint256 rowValues = spec.inputs + 1;
        if (rows.length % (4 * rowValues) != 0) revert ShapeMismatch(rows.length, 4 * rowValues);
        n = rows.length / (4 * rowValues);
        uint256 d = spec.inputs;
        int256[] memory x = new int256[](d);
        for (uint256 r; r < n; ) {
            uint256 base;
            unchecked {
                base = r * rowValues;
            }
            _unpackInto(rows, base, d, x, BOUND);
            checkLabel(spec, r, _readI32(rows, base + d));
            unchecked {
                ++r;
            }
        }
    }

    // --- layers and models --------------------------------------------------------------------------

    /// One dense layer over n rows: x (n×i, flat row-major), W = w[wOff .. wOff+i·o) (i×o row-major),
    /// b = w[wOff+i·o .. wOff+i·o+o) -> out (n×o) = clamp(tdiv(x·W, S) + b, -B, B).
    /// @dev Callers bound |x|, |w| <= B (i <= MAX_MODEL_DIM) so the sums are exact.
    function layer(int256[] memory x, uint256 n, uint256 i, int256[] memory w, uint256 wOff, uint256 o)
        internal
        pure
        returns (int256[] memory out)
    {
        if (x.length != n * i) revert ShapeMismatch(x.length, n * i);
        if (w.length < wOff + i * o + o) revert ShapeMismatch(w.length, wOff + i * o + o);
        out = new int256[](n * o);
        for (uint256 r; r < n; ) {
            unchecked {
                _dense(x, r * i, i, w, wOff, o, out, r * o);
                ++r;
            }
        }
    }

    /// Predictions of a model for x (n×d flat): LINREG the value z, LOGREG the probability of
    /// class 1 (scaled by S), MLP the class. Checks the shapes and |w|, |x| <= B.
    function predict(Spec memory spec, int256[] memory w, int256[] memory x)
        internal
        pure
        returns (int256[] memory preds)
    {
        uint256 n = _checkModelInputs(spec, w, x);
        preds = new int256[](n);
        int256[] memory hid = new int256[](spec.hidden);
        int256[] memory z = new int256[](spec.outputs);
        for (uint256 r; r < n; ) {
            unchecked {
                preds[r] = _predictOne(spec, w, x, r * spec.inputs, hid, z);
                ++r;
            }
        }
    }

    /// A chunk's addition to the score accumulator for x (n×d flat) and labels y (n): LINREG
    /// Σ (z - y)², LOGREG Σ (p - y·S)² (Brier), MLP the count of correct classes. Checks shapes,
    /// bounds and labels.
    function scoreSum(Spec memory spec, int256[] memory w, int256[] memory x, int256[] memory y)
        internal
        pure
        returns (uint256 acc)
    {
        uint256 n = _checkModelInputs(spec, w, x);
        if (y.length != n) revert ShapeMismatch(y.length, n);
        int256[] memory hid = new int256[](spec.hidden);
        int256[] memory z = new int256[](spec.outputs);
        for (uint256 r; r < n; ) {
            int256 label = y[r];
            checkLabel(spec, r, label);
            unchecked {
                acc += sampleScore(spec, _predictOne(spec, w, x, r * spec.inputs, hid, z), label);
                ++r;
            }
        }
    }

    /// `scoreSum` over packed rows, the layout of test chunks: per sample `i32 × inputs ‖ i32 label`
    /// big-endian. Returns the accumulator and the number of samples. Checks bounds and labels.
    function scoreRows(Spec memory spec, int256[] memory w, bytes memory rows)
        internal
        pure
        returns (uint256 acc, uint256 n)
    {
        return _scoreRows(spec, w, rows, true);
    }

    /// `scoreRows` as the state transition scores a stored test chunk (`protocol.kernels.score_chunk`):
    /// labels are only bounded by [-B, B] (a label outside the architecture's range, which RevealTestSet
    /// never stores, scores as a miss or by its squared error instead of reverting).
    function scoreChunk(Spec memory spec, int256[] memory w, bytes memory rows)
        internal
        pure
        returns (uint256 acc, uint256 n)
    {
        return _scoreRows(spec, w, rows, false);
    }

    function _scoreRows(Spec memory spec, int256[] memory w, bytes memory rows, bool labelsByArch)
        private
        pure
        returns (uint256 acc, uint256 n)
    {
        uint256 d = spec.inputs;
        uint256 rowValues = d + 1;
        if (rows.length % (4 * rowValues) != 0) revert ShapeMismatch(rows.length, 4 * rowValues);
        if (w.length != paramCount(spec)) revert ShapeMismatch(w.length, paramCount(spec));
        checkBounds(w, BOUND);
        n = rows.length / (4 * rowValues);
        int256[] memory x = new int256[](d);
        int256[] memory hid = new int256[](spec.hidden);
        int256[] memory z = new int256[](spec.outputs);
        for (uint256 r; r < n; ) {
            uint256 base;
            unchecked {
                base = r * rowValues;
            }
            _unpackInto(rows, base, d, x, BOUND);
            int256 label = _readI32(rows, base + d);
            if (labelsByArch) checkLabel(spec, r, label);
            else if (label < -BOUND || label > BOUND) revert ValueOutOfBounds(base + d, label, BOUND);
            unchecked {
                acc += sampleScore(spec, _predictOne(spec, w, x, 0, hid, z), label);
                ++r;
            }
        }
    }

    /// One sample's addition to the accumulator: (pred - y)², (p - y·S)², or 1 for a correct class.
    function sampleScore(Spec memory spec, int256 pred, int256 label) internal pure returns (uint256) {
        if (spec.arch == MLP) return pred == label ? 1 : 0;
        int256 e = pred - (spec.arch == LINREG ? label : label * SCALE);
        return uint256(e * e);
    }

    /// The task score from the accumulator over n >= 1 samples: -tdiv(acc, n·S) for LINREG and
    /// LOGREG (minus a mean squared error in units of S), acc for MLP. Higher is better.
    function finalScore(Spec memory spec, uint256 acc, uint256 n) internal pure returns (int256) {
        if (n == 0) revert ShapeMismatch(0, 1);
        if (spec.arch == MLP) return int256(acc);
        return -int256(acc / (n * uint256(SCALE))); // acc >= 0: floor division is truncation
    }

    // --- shared models: the paper's linear regression ---------------------------------------------

    /// Revert unless a shared model's weights, learning rate and a point are in bounds.
    function checkShared(int256[] memory w, uint256 lr) internal pure {
        if (w.length < 2 || w.length > SHARED_MAX_FEATURES + 1) {
            revert ShapeMismatch(w.length, SHARED_MAX_FEATURES + 1);
        }
        if (lr > SHARED_LR_MAX) revert LearningRateTooHigh(lr);
        checkBounds(w, SHARED_W_MAX);
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
            int256 err = clamp(y - s / SHARED_SCALE, -SHARED_ERR_MAX, SHARED_ERR_MAX);
            w[0] = clamp(w[0] - lr * (-2 * err), -SHARED_W_MAX, SHARED_W_MAX);
            for (uint256 i; i < f; ++i) {
                w[i + 1] = clamp(w[i + 1] - lr * (-2 * x[i] * err), -SHARED_W_MAX, SHARED_W_MAX);
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
            int256 err = clamp(y - (w0 + w1 * x) / SHARED_SCALE, -SHARED_ERR_MAX, SHARED_ERR_MAX);
            return (
                clamp(w0 - lr * (-2 * err), -SHARED_W_MAX, SHARED_W_MAX),
                clamp(w1 - lr * (-2 * x * err), -SHARED_W_MAX, SHARED_W_MAX)
            );
        }
    }

    // --- encodings and commitments (protocol/tensors.py, protocol/txrules.py) ----------------------

    /// Each value as a big-endian i32, concatenated (`canonical_i32`); reverts if one does not fit.
    function packI32(int256[] memory v) internal pure returns (bytes memory out) {
        uint256 n = v.length;
        out = new bytes(4 * n);
        uint256 bad = NONE;
        assembly ("memory-safe") {
            let src := add(v, 0x20)
            let dst := add(out, 0x20)
            let end := add(src, shl(5, n))
            let tail := mload(add(dst, shl(2, n))) // the word after the data, restored below
            for {} lt(src, end) {
                src := add(src, 0x20)
                dst := add(dst, 4)
            } {
                let e := mload(src)
                // e fits i32 iff e + 2^31, read unsigned, is below 2^32
                if gt(add(e, 0x80000000), 0xffffffff) {
                    bad := shr(5, sub(src, add(v, 0x20)))
                    break
                }
                mstore(dst, shl(224, e)) // writes 28 bytes past the value, overwritten next
            }
            mstore(add(add(out, 0x20), shl(2, n)), tail)
        }
        if (bad != NONE) revert ValueOutOfBounds(bad, v[bad], type(int32).max);
    }

    /// Value `index` of packed big-endian i32 data.
    function readI32(bytes memory data, uint256 index) internal pure returns (int256) {
        if (4 * index + 4 > data.length) revert ShapeMismatch(data.length, 4 * index + 4);
        return _readI32(data, index);
    }

    /// Write v (which fits i32) as value `index` of packed big-endian i32 data, in bounds.
    function writeI32(bytes memory data, uint256 index, int256 v) internal pure {
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), shl(2, index))
            mstore(p, or(shl(224, and(v, 0xffffffff)), shr(32, shl(32, mload(p)))))
        }
    }

    /// `weights_hash`: H(i32 × params).
    function weightsHash(int256[] memory w) internal pure returns (bytes32) {
        return keccak256(packI32(w));
    }

    /// `root_of_test_set`: the list Merkle root of H(chunk_j) where chunk j is samples
    /// [j·k, (j+1)·k) of the packed rows (`i32 × inputs ‖ i32 label` each), k = chunkSize(spec).
    function testRoot(Spec memory spec, bytes memory rows) internal pure returns (bytes32) {
        uint256 rowBytes = 4 * (spec.inputs + 1);
        if (rows.length % rowBytes != 0) revert ShapeMismatch(rows.length, rowBytes);
        uint256 chunkBytes = chunkSize(spec) * rowBytes;
        uint256 total = rows.length;
        uint256 nChunks = (total + chunkBytes - 1) / chunkBytes;
        bytes32[] memory leaves = new bytes32[](nChunks);
        for (uint256 j; j < nChunks; ) {
            uint256 start = j * chunkBytes;
            uint256 len = total - start < chunkBytes ? total - start : chunkBytes;
            bytes32 h;
            assembly ("memory-safe") {
                h := keccak256(add(add(rows, 0x20), start), len)
            }
            leaves[j] = h;
            unchecked {
                ++j;
            }
        }
        return listRoot(leaves);
    }

    /// `merkle_root` of spec section 1: zero for no leaves, the leaf itself for one; otherwise the
    /// leaves padded with zeros to a power of two and each node H(left ‖ right). Overwrites `leaves`.
    /// @dev Hashes only the occupied prefix of each level; a missing right sibling is the root of an
    /// all-zero subtree of that height (0, H(0 ‖ 0), ...).
    function listRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) return bytes32(0);
        bytes32 zero; // the all-zero subtree at the current height
        while (n > 1) {
            uint256 half = (n + 1) / 2;
            for (uint256 i; i < half; ) {
                uint256 l = 2 * i;
                leaves[i] = _hashPair(leaves[l], l + 1 < n ? leaves[l + 1] : zero);
                unchecked {
                    ++i;
                }
            }
            zero = _hashPair(zero, zero);
            n = half;
        }
        return leaves[0];
    }

    // --- internals ------------------------------------------------------------------------------------

    function _checkModelInputs(Spec memory spec, int256[] memory w, int256[] memory x)
        private
        pure
        returns (uint256 n)
    {
        uint256 params = paramCount(spec);
        if (w.length != params) revert ShapeMismatch(w.length, params);
        if (x.length % spec.inputs != 0) revert ShapeMismatch(x.length, spec.inputs);
        checkBounds(w, BOUND);
        checkBounds(x, BOUND);
        n = x.length / spec.inputs;
    }

    /// The prediction for the sample x[xOff .. xOff+d), with scratch hid (h) and z (c) for an MLP.
    function _predictOne(
        Spec memory spec,
        int256[] memory w,
        int256[] memory x,
        uint256 xOff,
        int256[] memory hid,
        int256[] memory z
    ) private pure returns (int256) {
        uint256 d = spec.inputs;
        if (spec.arch == MLP) {
            uint256 h = spec.hidden;
            _dense(x, xOff, d, w, 0, h, hid, 0);
            for (uint256 j; j < h; ) {
                if (hid[j] < 0) hid[j] = 0; // relu
                unchecked {
                    ++j;
                }
            }
            unchecked {
                _dense(hid, 0, h, w, d * h + h, spec.outputs, z, 0);
            }
            return int256(argmax(z, 0, spec.outputs));
        }
        int256 acc;
        assembly ("memory-safe") {
            let xp := add(add(x, 0x20), shl(5, xOff))
            let wp := add(w, 0x20)
            let end := add(xp, shl(5, d))
            for {} lt(xp, end) {
                xp := add(xp, 0x20)
                wp := add(wp, 0x20)
            } {
                acc := add(acc, mul(mload(xp), mload(wp)))
            }
        }
        int256 out = clamp(acc / SCALE + w[d], -BOUND, BOUND);
        return spec.arch == LINREG ? out : sigmoid(out);
    }

    /// out[outOff + c] = clamp(tdiv(Σ_k x[xOff+k]·W[k][c], S) + b[c], -B, B) for c < o, where
    /// W = w[wOff ..] (i×o row-major) and b follows it. Each dot product runs down a column of W
    /// (stride o) with the sum on the stack, unrolled by four.
    /// @dev Callers check the lengths; the products and sums are exact by the bounds.
    function _dense(
        int256[] memory x,
        uint256 xOff,
        uint256 i,
        int256[] memory w,
        uint256 wOff,
        uint256 o,
        int256[] memory out,
        uint256 outOff
    ) private pure {
        uint256 bOff;
        unchecked {
            bOff = wOff + i * o;
        }
        for (uint256 c; c < o; ) {
            int256 acc;
            assembly ("memory-safe") {
                let stride := shl(5, o)
                let stride2 := shl(6, o)
                let stride3 := mul(3, stride)
                let stride4 := shl(7, o)
                let xp := add(add(x, 0x20), shl(5, xOff))
                let wp := add(add(w, 0x20), shl(5, add(wOff, c)))
                let xEnd := add(xp, shl(5, i))
                let xEnd4 := add(xp, shl(7, shr(2, i)))
                for {} lt(xp, xEnd4) {} {
                    acc := add(
                        acc,
                        add(
                            add(mul(mload(xp), mload(wp)), mul(mload(add(xp, 0x20)), mload(add(wp, stride)))),
                            add(
                                mul(mload(add(xp, 0x40)), mload(add(wp, stride2))),
                                mul(mload(add(xp, 0x60)), mload(add(wp, stride3)))
                            )
                        )
                    )
                    wp := add(wp, stride4)
                    xp := add(xp, 0x80)
                }
                for {} lt(xp, xEnd) {} {
                    acc := add(acc, mul(mload(xp), mload(wp)))
                    wp := add(wp, stride)
                    xp := add(xp, 0x20)
                }
            }
            unchecked {
                out[outOff + c] = clamp(acc / SCALE + w[bOff + c], -BOUND, BOUND);
                ++c;
            }
        }
    }

    function _hashPair(bytes32 left, bytes32 right) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            h := keccak256(0x00, 0x40)
        }
    }

    /// out[0 .. count) = the i32 values data[from .. from+count), each checked against
    /// [-bound, bound]; the caller ensures the ranges are in bounds.
    function _unpackInto(bytes memory data, uint256 from, uint256 count, int256[] memory out, int256 bound)
        private
        pure
    {
        uint256 bad = NONE;
        int256 value;
        assembly ("memory-safe") {
            let src := add(add(data, 0x20), shl(2, from))
            let dst := add(out, 0x20)
            let end := add(dst, shl(5, count))
            let span := shl(1, bound)
            for {} lt(dst, end) {
                src := add(src, 4)
                dst := add(dst, 0x20)
            } {
                let e := signextend(3, shr(224, mload(src)))
                if gt(add(e, bound), span) {
                    bad := add(from, shr(5, sub(dst, add(out, 0x20))))
                    value := e
                    break
                }
                mstore(dst, e)
            }
        }
        if (bad != NONE) revert ValueOutOfBounds(bad, value, bound);
    }

    function _readI32(bytes memory data, uint256 index) private pure returns (int256 v) {
        assembly ("memory-safe") {
            v := signextend(3, shr(224, mload(add(add(data, 0x20), shl(2, index)))))
        }
    }
}
