// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IOneStepProver, StepContext} from "../interfaces/IOneStepProver.sol";

/// @notice Test-only stand-in for the one-step prover, for the fraud game's bookkeeping tests: the
///         "witness" is `abi.encode(preStepHash, postStepHash, ctxHash)` and is returned as the result,
///         after checking that `ctxHash` is the hash of the context the Rollup passed (so the tests see the
///         context the Rollup builds). A witness of `0xdead` reverts, as an inconsistent witness does.
contract TestStepProver is IOneStepProver {
    error TestWitnessRejected();
    error TestContextMismatch(bytes32 expected, bytes32 given);

    function proveStep(StepContext calldata ctx, bytes calldata witness)
        external
        pure
        returns (bytes32 preStepHash, bytes32 postStepHash)
    {
        if (witness.length == 2) revert TestWitnessRejected();
        bytes32 ctxHash;
        (preStepHash, postStepHash, ctxHash) = abi.decode(witness, (bytes32, bytes32, bytes32));
        bytes32 actual = keccak256(abi.encode(ctx));
        if (ctxHash != actual) revert TestContextMismatch(ctxHash, actual);
    }
}
