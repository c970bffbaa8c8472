"""Thin typed bindings over web3 for the Rollup and the Bridge.

```
rollup = Rollup(w3, address)
rollup.append_batch(KeySender.from_hex(key), data, prev, post, trace, deposits, gas=append_batch_gas(data))
info = rollup.get_batch(0)                      # BatchInfo
bridge.deposits_since(block)                    # [protocol.deposits.Deposit]
```

Reverts raise the `l1_contracts.errors.ContractRevert` subclass named after the custom error.
"""

from l1_contracts.bindings.bridge import GAS_DEPOSIT, Bridge, DepositLog, WithdrawalClaimed, claim_gas
from l1_contracts.bindings.rollup import (
    GAS_BOND,
    GAS_CHALLENGE,
    GAS_PROVE_FRAUD_MAX,
    GAS_UNBOND,
    BatchAppended,
    BatchDeleted,
    BatchFinalized,
    BatchInfo,
    BatchStatus,
    ChallengeInfo,
    ChallengePhase,
    ChallengeResolved,
    Resolution,
    RevealNotFound,
    Rollup,
    StepContextInfo,
    append_batch_gas,
    reveal_steps_gas,
)
from l1_contracts.bindings.tx import (
    BoundContract,
    ErrorDecoder,
    KeySender,
    Sender,
    UnlockedSender,
    default_decoder,
    revert_data,
    transact,
)

__all__ = [
    "GAS_BOND",
    "GAS_CHALLENGE",
    "GAS_DEPOSIT",
    "GAS_PROVE_FRAUD_MAX",
    "GAS_UNBOND",
    "BatchAppended",
    "BatchDeleted",
    "BatchFinalized",
    "BatchInfo",
    "BatchStatus",
    "BoundContract",
    "Bridge",
    "ChallengeInfo",
    "ChallengePhase",
    "ChallengeResolved",
    "DepositLog",
    "ErrorDecoder",
    "KeySender",
    "Resolution",
    "RevealNotFound",
    "Rollup",
    "Sender",
    "StepContextInfo",
    "UnlockedSender",
    "WithdrawalClaimed",
    "append_batch_gas",
    "claim_gas",
    "default_decoder",
    "reveal_steps_gas",
    "revert_data",
    "transact",
]
