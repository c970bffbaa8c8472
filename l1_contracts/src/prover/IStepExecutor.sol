// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StepContext} from "../interfaces/IOneStepProver.sol";

/// @title IStepExecutor
/// @notice One kind of step's re-execution, called by `OneStepProver` once it has bound the witness to
///         the batch (header, deposit, tx inclusion). An executor re-parses the witness, runs the step
///         over its access list, checks every access against the rolling root and returns the step
///         hash after the step. It trusts the caller for the binding: only `OneStepProver.proveStep`'s
///         answer proves anything.
interface IStepExecutor {
    /// @param ctx the batch's context: tx steps use its EIP-712 domain and fee schedule (job steps none)
    /// @param witness the canonical witness bytes of docs/spec.md section 8
    function execute(StepContext calldata ctx, bytes calldata witness) external view returns (bytes32 postStepHash);
}
