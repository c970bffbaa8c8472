// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// What the Rollup knows about the batch a step belongs to; the prover binds the witness to it.
struct StepContext {
    bytes32 domainSeparator; // EIP-712 domain of L2 txs: name "mlrollup", version "1", chainid, the Rollup
    bytes32 batchDataHash; // H(u8 version ‖ u64 timestamp ‖ u32 txCount ‖ txRoot), as the Rollup stored it
    uint64 depositStart; // cumulative deposits consumed before this batch (the previous batch's count)
    uint64 depositEnd; // cumulative deposits consumed after this batch (this batch's count)
    address bridge; // deposit `i` is proven by `IBridge(bridge).depositHash(i)`
    uint64 feePrice; // wei a fee unit of L2 txs (the Rollup's `feePrice`, docs/spec.md section 6)
    address feeRecipient; // the L2 address credited with every fee (the Rollup's `feeRecipient`)
}

/// @title IOneStepProver
/// @notice Re-executes one step of an L2 batch from its witness (docs/spec.md sections 5 and 8).
/// @dev The Rollup's fraud game checks `preStepHash` against the committed trace (the leaf before the
///      step, or `H(prevRoot ‖ 0 ‖ 0)` for step 0) and proves fraud when `postStepHash` differs from the
///      claimed leaf. A witness that is not internally consistent (a proof that does not match the
///      rolling root, a tx not in the batch, a deposit not in the queue) reverts: it proves nothing.
///      A step asked of a finished machine (no job pending and every input consumed) returns
///      `postStepHash = NO_STEP = keccak256("mlrollup.no-step")`, which no trace leaf can equal.
///      The implementation is `prover/OneStepProver.sol`; its result equals
///      `protocol.witness.reexecute(decode_witness(witness), domain, fees).step_hash` bit for bit.
interface IOneStepProver {
    /// @param ctx the batch the step belongs to, as the Rollup stored it
    /// @param witness the canonical witness bytes (`protocol.witness.encode_witness`, docs/spec.md
    ///        section 8)
    /// @return preStepHash `H(preRoot ‖ u32 preCursor ‖ jobHash)` of the witness
    /// @return postStepHash the trace leaf after the step, or NO_STEP
    function proveStep(StepContext calldata ctx, bytes calldata witness)
        external
        view
        returns (bytes32 preStepHash, bytes32 postStepHash);
}
