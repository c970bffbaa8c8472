// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Rollup} from "../rollup/Rollup.sol";

/// @notice Test-only: a Rollup whose rollback hook `_deleteFrom` can be called directly.
contract RollupHarness is Rollup {
    constructor(
        address bridge_,
        bytes32 genesisRoot_,
        uint256 bondAmount_,
        uint256 challengeWindow_,
        address prover_,
        uint256 challengerBond_,
        uint256 responseWindow_,
        uint256 proofWindow_,
        uint256 challengerShareBps_,
        uint256 feePrice_,
        address feeRecipient_
    )
        Rollup(
            bridge_,
            genesisRoot_,
            bondAmount_,
            challengeWindow_,
            prover_,
            challengerBond_,
            responseWindow_,
            proofWindow_,
            challengerShareBps_,
            feePrice_,
            feeRecipient_
        )
    {}

    function deleteFrom(uint256 index) external {
        _deleteFrom(index);
    }
}
