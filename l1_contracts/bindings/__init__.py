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
    GAS_UNBOND,
    BatchAppended,
    BatchDeleted,
    BatchFinalized,
    BatchInfo,
    BatchStatus,
    Rollup,
    append_batch_gas,
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
    "GAS_DEPOSIT",
    "GAS_UNBOND",
    "BatchAppended",
    "BatchDeleted",
    "BatchFinalized",
    "BatchInfo",
    "BatchStatus",
    "BoundContract",
    "Bridge",
    "DepositLog",
    "ErrorDecoder",
    "KeySender",
    "Rollup",
    "Sender",
    "UnlockedSender",
    "WithdrawalClaimed",
    "append_batch_gas",
    "claim_gas",
    "default_decoder",
    "revert_data",
    "transact",
]
