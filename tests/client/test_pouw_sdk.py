"""`mlrollup simulate pouw --url`: the PoUW attack's round through the SDK against the shared stack.
The attacker's miner wins his own task, his two accounts end as they began, the honest miners'
balances do not move, the scores are the in-process round's, and a task with no reward is refused.
Marked `slow` (about 30 s of real deadlines; `make crosscheck` runs it): CI checks the same round
in-process (tests/bench/test_pouw.py)."""

from __future__ import annotations

import pytest

from bench.pouw import ATTACKER_MINER, round_holds
from bench.pouw_sdk import sdk_round
from l1_contracts.devnet import dev_accounts
from tests.client.conftest import ClientStack
from tests.support.wallets import ETH

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

L1_KEY = dev_accounts()[5].private_key  # after the session's funding, no other test deposits from it


def test_the_attack_round_against_a_running_stack(client_stack: ClientStack) -> None:
    l1_url = client_stack.stack.sequencer_env["MLROLLUP_L1_RPC_URL"]
    real = sdk_round(client_stack.url, l1_url, L1_KEY, honest_miners=2, seed=3, reward=ETH)
    assert round_holds(real), real
    assert real.winner == ATTACKER_MINER and real.attacker_net() == -real.attacker_fees() < 0  # his fees
    assert real.zero_reward == "INVALID_PARAMS"
    rows = {a.name: a for a in real.accounts}
    assert rows[ATTACKER_MINER].net == ETH and rows[ATTACKER_MINER].score == 0
    for name in ("honest miner 1", "honest miner 2"):
        score = rows[name].score
        assert rows[name].net == 0 and rows[name].fees > 0 and score is not None and score < 0
