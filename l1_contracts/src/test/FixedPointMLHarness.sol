// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FixedPointML} from "../libraries/FixedPointML.sol";
import {OnChainCompetition} from "../twins/OnChainCompetition.sol";

/// @title FixedPointMLHarness
/// @notice Test-only: exposes the FixedPointML kernels as external pure functions so the tests can
/// hold them to protocol/reference.py bit for bit. Not deployed by the rollup.
contract FixedPointMLHarness {
    using FixedPointML for FixedPointML.Spec;

    function tdiv(int256 a, int256 b) external pure returns (int256) {
        return FixedPointML.tdiv(a, b);
    }

    function clamp(int256 v, int256 lo, int256 hi) external pure returns (int256) {
        return FixedPointML.clamp(v, lo, hi);
    }

    function sigmoid(int256 z) external pure returns (int256) {
        return FixedPointML.sigmoid(z);
    }

    function argmax(int256[] memory z) external pure returns (uint256) {
        return FixedPointML.argmax(z, 0, z.length);
    }

    function layer(int256[] memory x, uint256 n, uint256 i, int256[] memory w, uint256 wOff, uint256 o)
        external
        pure
        returns (int256[] memory)
    {
        return FixedPointML.layer(x, n, i, w, wOff, o);
    }

    function validateSpec(uint8 arch, uint256 inputs, uint256 hidden, uint256 outputs)
        external
        pure
        returns (uint256 params, uint256 macs, uint256 chunk)
    {
        FixedPointML.Spec memory spec = FixedPointML.validateSpec(arch, inputs, hidden, outputs);
        return (spec.paramCount(), spec.macsPerSample(), spec.chunkSize());
    }

    function predict(uint8 arch, uint256 d, uint256 h, uint256 c, int256[] memory w, int256[] memory x)
        external
        pure
        returns (int256[] memory)
    {
        return FixedPointML.Spec(arch, d, h, c).predict(w, x);
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
        FixedPointML.Spec memory spec = FixedPointML.Spec(arch, d, h, c);
        acc = spec.scoreSum(w, x, y);
        score = spec.finalScore(acc, y.length);
    }

    function scoreRows(uint8 arch, uint256 d, uint256 h, uint256 c, int256[] memory w, bytes memory rows)
        external
        pure
        returns (uint256 acc, uint256 n)
    {
        return FixedPointML.Spec(arch, d, h, c).scoreRows(w, rows);
    }

    function sharedSgd(int256[] memory w, uint256 lr, int256[] memory xs, int256[] memory ys)
        external
        pure
        returns (int256[] memory)
    {
        FixedPointML.checkShared(w, lr);
        uint256 f = w.length - 1;
        int256[] memory x = new int256[](f);
        for (uint256 p; p < ys.length; ++p) {
            for (uint256 i; i < f; ++i) x[i] = xs[p * f + i];
            FixedPointML.sgdStep(w, x, ys[p], int256(lr));
        }
        return w;
    }

    function sharedSgd1(int256 w0, int256 w1, uint256 lr, int256[] memory xs, int256[] memory ys)
        external
        pure
        returns (int256, int256)
    {
        for (uint256 p; p < ys.length; ++p) (w0, w1) = FixedPointML.sgdStep1(w0, w1, xs[p], ys[p], int256(lr));
        return (w0, w1);
    }

    function packI32(int256[] memory v) external pure returns (bytes memory) {
        return FixedPointML.packI32(v);
    }

    function readI32(bytes memory data, uint256 index) external pure returns (int256) {
        return FixedPointML.readI32(data, index);
    }

    function weightsHash(int256[] memory w) external pure returns (bytes32) {
        return FixedPointML.weightsHash(w);
    }

    function testRoot(uint8 arch, uint256 d, uint256 h, uint256 c, bytes memory rows)
        external
        pure
        returns (bytes32)
    {
        return FixedPointML.Spec(arch, d, h, c).testRoot(rows);
    }

    function listRoot(bytes32[] memory leaves) external pure returns (bytes32) {
        return FixedPointML.listRoot(leaves);
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
