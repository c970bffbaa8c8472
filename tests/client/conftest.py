"""One stack of role processes (devnet, sequencer with its batcher, verifier) for every process test
of the SDK and the CLI: started once a session, on the first test that asks for it, so once per
pytest-xdist worker (`make test` runs two). The tests share it: each owns its funded users.

(xdist's `--dist loadgroup` would keep them on one worker, but xdist 3.8 tags the node ids through
`item._nodeid`, which pytest 9 no longer reads, so the groups are silently ignored.)"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.stack import Stack, fund, start_stack
from tests.support.servers import Roles
from tests.support.wallets import ETH, Wallet

CHALLENGE_WINDOW_S = 2  # withdrawals final within seconds
FUNDED = 40 * ETH


@dataclass
class ClientStack:
    """The stack, its sequencer's URL, and funded L2 users handed out one name at a time."""

    stack: Stack
    url: str
    wallets: dict[str, Wallet]

    def user(self, name: str) -> Wallet:
        return self.wallets[name]

    def key(self, name: str) -> str:
        return "0x" + self.wallets[name].key.hex()


# Every funded user, by the test that owns it (one per flavour where sync and async run together,
# so that their nonces never interleave).
USERS = [
    f"{role}_{flavour}"
    for flavour in ("sync", "async")
    for role in ("reader", "submitter", "miner_a", "miner_b", "trainer", "withdrawer", "rival")
] + ["mlp_submitter", "mlp_good", "mlp_lazy", "mlp_copycat", "cli", "cli_peer"]


@pytest.fixture(scope="session")
def client_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientStack]:
    directory = tmp_path_factory.mktemp("client_stack")
    roles = Roles(directory / "logs")
    try:
        stack = start_stack(roles, directory, challenge_window_s=CHALLENGE_WINDOW_S)
        wallets = {name: Wallet.from_seed(500 + i) for i, name in enumerate(USERS)}
        fund(stack, list(wallets.values()), FUNDED)
        yield ClientStack(stack, str(stack.l2.http.base_url).rstrip("/"), wallets)
    except BaseException:
        for role in roles.started:
            print(f"----- {role.name} ({role.log})\n{role.output()[-4000:]}")
        raise
    finally:
        roles.stop_all()
