// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleList} from "../libraries/MerkleList.sol";
import {MLKernels} from "../libraries/MLKernels.sol";
import {ModelSpec} from "../libraries/ModelSpec.sol";
import {PackedI32} from "../libraries/PackedI32.sol";
import {Scoring} from "../libraries/Scoring.sol";
import {SharedSGD} from "../libraries/SharedSGD.sol";
import {TestSetRows} from "../libraries/TestSetRows.sol";
import {OnChainCompetition} from "../twins/OnChainCompetition.sol";

/// @title FixedPointMLHarness
/// @notice Test-only: exposes the fixed-point ML libraries (ModelSpec, MLKernels, Scoring, SharedSGD,
/// PackedI32, TestSetRows) as external pure functions so the tests can hold them to
/// protocol/reference.py bit for bit. Not deployed by the rollup.
contract FixedPointMLHarness {
    using ModelSpec for ModelSpec.Spec;
    using MLKernels for ModelSpec.Spec;
    using Scoring for ModelSpec.Spec;
    using TestSetRows for ModelSpec.Spec;

    function tdiv(int256 a, int256 b) external pure returns (int256) {
        return MLKernels.tdiv(a, b);
    }

    function clamp(int256 v, int256 lo, int256 hi) external pure returns (int256) {
        return MLKernels.clamp(v, lo, hi);
    }

    function sigmoid(int256 z) external pure returns (int256) {
        return MLKernels.sigmoid(z);
    }

    function argmax(int256[] memory z) external pure returns (uint256) {
        return MLKernels.argmax(z, 0, z.length);
    }

    function layer(int256[] memory x, uint256 n, uint256 i, int256[] memory w, uint256 wOff, uint256 o)
        external
        pure
        returns (int256[] memory)
    {
        return MLKernels.layer(x, n, i, w, wOff, o);
    }

    function validateSpec(uint8 arch, uint256 inputs, uint256 hidden, uint256 outputs)
        external
        pure
        returns (uint256 params, uint256 macs, uint256 chunk)
    {
        ModelSpec.Spec memory spec = ModelSpec.validateSpec(arch, inputs, hidden, outputs);
        return (spec.paramCount(), spec.macsPerSample(), spec.chunkSize());
    }

    function predict(uint8 arch, uint256 d, uint256 h, uint256 c, int256[] memory w, int256[] memory x)
        external
        pure
        returns (int256[] memory)
    {
        return ModelSpec.Spec(arch, d, h, c).predict(w, x);
    }

    function scoreSum(
        uint8 arch,
        uint256 d,
        uint256 h,
        uint256 c,
        int256[] memory w,
        int256[] memory x,
        int256[] memory y
    ) external pure returns (uint256 acc, int256 score) {
        ModelSpec.Spec memory spec = ModelSpec.Spec(arch, d, h, c);
        acc = spec.scoreSum(w, x, y);
        score = spec.finalScore(acc, y.length);
    }

    function scoreRows(uint8 arch, uint256 d, uint256 h, uint256 c, int256[] memory w, bytes memory rows)
        external
        pure
        returns (uint256 acc, uint256 n)
    {
        return ModelSpec.Spec(arch, d, h, c).scoreRows(w, rows);
    }

    function sharedSgd(int256[] memory w, uint256 lr, int256[] memory xs, int256[] memory ys)
        external
        pure
        returns (int256[] memory)
    {
        SharedSGD.checkShared(w, lr);
        uint256 f = w.length - 1;
        int256[] memory x = new int256[](f);
        for (uint256 p; p < ys.length; ++p) {
            for (uint256 i; i < f; ++i) x[i] = xs[p * f + i];
            SharedSGD.sgdStep(w, x, ys[p], int256(lr));
        }
        return w;
    }

    function sharedSgd1(int256 w0, int256 w1, uint256 lr, int256[] memory xs, int256[] memory ys)
        external
        pure
        returns (int256, int256)
    {
        for (uint256 p; p < ys.length; ++p) (w0, w1) = SharedSGD.sgdStep1(w0, w1, xs[p], ys[p], int256(lr));
        return (w0, w1);
    }

    function packI32(int256[] memory v) external pure returns (bytes memory) {
        return PackedI32.packI32(v);
    }

    function readI32(bytes memory data, uint256 index) external pure returns (int256) {
        return PackedI32.readI32(data, index);
    }

    function weightsHash(int256[] memory w) external pure returns (bytes32) {
        return PackedI32.weightsHash(w);
    }

    function testRoot(uint8 arch, uint256 d, uint256 h, uint256 c, bytes memory rows)
        external
        pure
        returns (bytes32)
    {
        return ModelSpec.Spec(arch, d, h, c).testRoot(rows);
    }

    function listRoot(bytes32[] memory leaves) external pure returns (bytes32) {
        return MerkleList.rootInPlace(leaves);
    }
}

/// @title TwinMinerHarness
/// @notice Test-only: a contract miner of OnChainCompetition that refuses ETH until told otherwise,
/// to exercise the deferred payment path (finalize credits a refused reward; withdrawCredit pays it).
contract TwinMinerHarness {
    OnChainCompetition public immutable competition;
    bool public accept;

    constructor(OnChainCompetition competition_) {
        competition = competition_;
    }

    function setAccept(bool accept_) external {
        accept = accept_;
    }

    function commit(uint256 taskId, bytes32 commitment) external {
        competition.commit(taskId, commitment);
    }

    function revealModel(uint256 taskId, bytes32 salt, int32[] calldata weights) external {
        competition.revealModel(taskId, salt, weights);
    }

    function withdrawCredit() external {
        competition.withdrawCredit();
    }

    receive() external payable {
        require(accept, "refusing ETH");
    }
}
