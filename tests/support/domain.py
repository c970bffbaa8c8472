"""The signing domain of the tests' deployment, the one every test signs for unless it tests another:
chain 31337 (the devnet's) and a fixed Rollup address. The golden vectors (`tests/vectors`) are
signed for it too."""

from __future__ import annotations

from protocol.signing import Domain

DOMAIN = Domain(chain_id=31337, verifying_contract=bytes.fromhex("5fbdb2315678afecb367f032d93f642f64180aa3"))
