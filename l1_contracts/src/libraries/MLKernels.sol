// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/kernels.py (held to it bit for bit through protocol/reference.py)

import {ELEMENT_MAX, FIXED_SCALE} from "../ProtocolParams.sol";
import {ShapeMismatch, ValueOutOfBounds} from "./KernelErrors.sol";
import {ModelSpec} from "./ModelSpec.sol";

/// @title MLKernels
/// @notice The integer kernels of docs/spec.md section 7: fixed point with scale S = FIXED_SCALE and
/// bound B = ELEMENT_MAX, `tdiv` truncating toward zero (Solidity's signed `/`),
/// `layer = clamp(tdiv(x·W, S) + b, -B, B)`, ReLU, the monotone piecewise sigmoid, first-max-wins
/// argmax, the bound check, and a model's predictions.
/// @dev Arrays are `int256[] memory`. Every entry point that takes untrusted values checks their
/// bounds first; after that, no product or sum can overflow int256 (|x·W| <= 2^12·2^48 = 2^60), so
/// the hot loops run unchecked, with inline memory reads.
library MLKernels {
    uint256 private constant NONE = type(uint256).max; // no index

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
        if (a < FIXED_SCALE) {
            y = a / 4 + FIXED_SCALE / 2;
        } else {
            int256 u = a / 8 + (5 * FIXED_SCALE) / 8;
            int256 v = a / 32 + (27 * FIXED_SCALE) / 32;
            y = u < v ? u : v;
            if (y > FIXED_SCALE) y = FIXED_SCALE;
        }
        if (z < 0) y = FIXED_SCALE - y;
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
                dense(x, r * i, i, w, wOff, o, out, r * o);
                ++r;
            }
        }
    }

    /// Predictions of a model for x (n×d flat): LINREG the value z, LOGREG the probability of
    /// class 1 (scaled by S), MLP the class. Checks the shapes and |w|, |x| <= B.
    function predict(ModelSpec.Spec memory spec, int256[] memory w, int256[] memory x)
        internal
        pure
        returns (int256[] memory preds)
    {
        uint256 n = checkModelInputs(spec, w, x);
        preds = new int256[](n);
        int256[] memory hid = new int256[](spec.hidden);
        int256[] memory z = new int256[](spec.outputs);
        for (uint256 r; r < n; ) {
            unchecked {
                preds[r] = predictOne(spec, w, x, r * spec.inputs, hid, z);
                ++r;
            }
        }
    }

    /// The number of samples in x (n×d flat), after checking the weights' length and |w|, |x| <= B.
    function checkModelInputs(ModelSpec.Spec memory spec, int256[] memory w, int256[] memory x)
        internal
        pure
        returns (uint256 n)
    {
        uint256 params = ModelSpec.paramCount(spec);
        if (w.length != params) revert ShapeMismatch(w.length, params);
        if (x.length % spec.inputs != 0) revert ShapeMismatch(x.length, spec.inputs);
        checkBounds(w, ELEMENT_MAX);
        checkBounds(x, ELEMENT_MAX);
        n = x.length / spec.inputs;
    }

    /// The prediction for the sample x[xOff .. xOff+d), with scratch hid (h) and z (c) for an MLP.
    /// @dev Callers check the shapes and bounds (`checkModelInputs`).
    function predictOne(
        ModelSpec.Spec memory spec,
        int256[] memory w,
        int256[] memory x,
        uint256 xOff,
        int256[] memory hid,
        int256[] memory z
    ) internal pure returns (int256) {
        uint256 d = spec.inputs;
        if (spec.arch == ModelSpec.MLP) {
            uint256 h = spec.hidden;
            dense(x, xOff, d, w, 0, h, hid, 0);
            for (uint256 j; j < h; ) {
                if (hid[j] < 0) hid[j] = 0; // relu
                unchecked {
                    ++j;
                }
            }
            unchecked {
                dense(hid, 0, h, w, d * h + h, spec.outputs, z, 0);
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
        int256 out = clamp(acc / FIXED_SCALE + w[d], -ELEMENT_MAX, ELEMENT_MAX);
        return spec.arch == ModelSpec.LINREG ? out : sigmoid(out);
    }

    /// out[outOff + c] = clamp(tdiv(Σ_k x[xOff+k]·W[k][c], S) + b[c], -B, B) for c < o, where
    /// W = w[wOff ..] (i×o row-major) and b follows it. Each dot product runs down a column of W
    /// (stride o) with the sum on the stack, unrolled by four.
    /// @dev Callers check the lengths; the products and sums are exact by the bounds.
    function dense(
        int256[] memory x,
        uint256 xOff,
        uint256 i,
        int256[] memory w,
        uint256 wOff,
        uint256 o,
        int256[] memory out,
        uint256 outOff
    ) internal pure {
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
                out[outOff + c] = clamp(acc / FIXED_SCALE + w[bOff + c], -ELEMENT_MAX, ELEMENT_MAX);
                ++c;
            }
        }
    }
}
