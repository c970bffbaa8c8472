"""Keep the interpreter's recursion limit low enough that no recursion can overflow the C stack.

`py_ecc` (imported by eth-keyfile, hence by eth-account and web3, and by py-evm) raises the
process's recursion limit to 100,000 when imported, and py-evm's `eth` package to 12,288. A C
recursion that honours the limit (the JSON decoder, `repr`, pickling) then overflows an 8 MiB
stack long before the limit stops it, and the process dies with a segfault instead of a
`RecursionError`: one request of JSON nested 100,000 deep killed the sequencer and the devnet.

Every role's entry point calls `cap_recursion_limit()` once its imports are done (a lazy import of
`py_ecc` afterwards would raise the limit again: the roles import it at start).
`SAFE_RECURSION_LIMIT` is py-evm's own `EVM_RECURSION_LIMIT`, what 1,024 nested EVM calls need
(measured: they take about 7,000 Python frames), and a third of the depth at which nested JSON
first overflowed an 8 MiB thread stack on the development machine (between 40,000 and 60,000).
"""

from __future__ import annotations

import sys
from typing import Final

SAFE_RECURSION_LIMIT: Final = 1024 * 12


def cap_recursion_limit(limit: int = SAFE_RECURSION_LIMIT) -> int:
    """Lower the recursion limit to `limit` if a dependency raised it higher; never raises it.
    Returns the limit in force."""
    if sys.getrecursionlimit() > limit:
        sys.setrecursionlimit(limit)
    return sys.getrecursionlimit()
