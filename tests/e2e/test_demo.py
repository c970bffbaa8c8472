"""`mlrollup demo --url … --json` against `mlrollup up`, both as processes: the story's summary adds up.

`up` runs on free ports in a temporary data directory, with short windows (a 2 s challenge window,
1 s batches, 0.5 s blocks) so that the demo's deadlines and the withdrawal's finality take seconds;
the demo runs with `--quick` (less float training and a smaller twin measurement: less CPU, the same
story against the same stack). `up` is stopped (and stops its roles) whatever happens.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.demo import FEE_FUNDS
from tests.support.servers import ROOT, Role, clean_env, free_port, roles_in, wait_until

pytestmark = pytest.mark.e2e

PAPER_WEIGHTS = [709424000, -7180000]
TEST_SAMPLES = 360  # the default: the 20% split of the digits, revealed in several RevealTestSet txs
DEMO_TIMEOUT_S = 420


def start_up(roles: Any, data_dir: Path) -> tuple[Role, dict[str, str]]:
    """`mlrollup up` on free ports; its URLs once the verifier (started last) is ready."""
    l1_port, port, verifier_port = free_port(), free_port(), free_port()
    argv = ["up", "--data-dir", str(data_dir), "--l1-port", str(l1_port), "--port", str(port)]
    argv += ["--verifier-port", str(verifier_port), "--challenge-window", "2"]
    argv += ["--batch-max-age", "1", "--block-interval", "0.5"]
    up = roles.start("up", argv, clean_env())
    urls = {
        "url": f"http://127.0.0.1:{port}",
        "l1": f"http://127.0.0.1:{l1_port}",
        "verifier": f"http://127.0.0.1:{verifier_port}",
    }

    def ready() -> bool:
        up.check_alive()
        return httpx.get(urls["verifier"] + "/readyz", timeout=2).status_code == 200

    wait_until("mlrollup up's verifier", ready, timeout=240)
    return up, urls


def test_the_demo_tells_the_story_against_up(tmp_path: Path) -> None:
    with roles_in(tmp_path / "logs") as roles:
        up, urls = start_up(roles, tmp_path / "up")
        command = [sys.executable, "-m", "mlrollup", "demo", "--url", urls["url"], "--l1-url", urls["l1"]]
        command += ["--verifier-url", urls["verifier"], "--quick", "--json"]
        # windows with room for a sequencer slowed down by the other tests (CI runs two at once)
        command += ["--commit-window", "8", "--reveal-window", "14"]
        demo = subprocess.run(
            command, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=DEMO_TIMEOUT_S
        )
        assert demo.returncode == 0, f"{demo.stderr[-6000:]}\n----- up\n{up.output()[-4000:]}"
        up.check_alive()
    summary = json.loads(demo.stdout)  # stdout is the one JSON object and nothing else

    assert summary["task"]["n_test"] == TEST_SAMPLES
    miners = {m["name"]: m for m in summary["miners"]}
    assert len(miners) >= 5
    # every revealed score is the local one, bit for bit; the best local score wins and is paid
    scored = {name: m for name, m in miners.items() if m["local_score"] is not None}
    assert len(scored) >= 4
    for name, m in scored.items():
        assert m["score"] == m["local_score"], name
        assert 0 <= m["accuracy"] <= 1
    best = max(scored.values(), key=lambda m: (m["local_score"], -m["seq"]))
    assert summary["winner"] == summary["best_by_local_score"] == best["name"]
    reward = summary["task"]["reward"]
    assert best["reward"] == reward
    assert all(m["reward"] == 0 for name, m in miners.items() if name != best["name"])
    lazy = [m for m in miners.values() if m["strategy"] == "lazy"]
    assert lazy and all(m["score"] < best["score"] for m in lazy)
    # the copycat's reveal of the copied weights is refused: no score, nothing paid
    copycats = [m for m in miners.values() if m["strategy"] == "copycat"]
    assert copycats
    balances = {b["name"]: b for b in summary["balances"]["accounts"]}
    for m in copycats:
        assert m["refused"] == "hash_mismatch" and m["score"] is None and m["reward"] == 0
        # it gains nothing: of the submitter's money for its fees, it spent its commitment's fee
        gained = balances[m["name"]]["l2_after"] - balances[m["name"]]["l2_before"]
        assert 0 < gained < FEE_FUNDS
    assert balances["fee recipient"]["l2_after"] > balances["fee recipient"]["l2_before"]  # fees paid

    # deposits = the change of the L2 balances + what was withdrawn
    b = summary["balances"]
    change = sum(a["l2_after"] - a["l2_before"] for a in b["accounts"])
    assert b["deposited"] == change + b["withdrawn"] > 0
    assert b["adds_up"]

    w = summary["withdrawal"]
    assert w["amount"] == b["withdrawn"] == reward
    assert w["claim_tx"].startswith("0x") and w["claim_gas"] > 0
    assert w["l1_balance_after"] - w["l1_balance_before"] == w["l1_balance_delta"] == w["amount"]

    assert summary["shared_model"]["weights"] == PAPER_WEIGHTS
    assert summary["shared_model"]["epochs"] == 2000

    batches = summary["batches"]
    assert batches["posted"] > 0 and 0 < batches["finalized"] <= batches["posted"]
    assert w["batch"] in batches["finalized_ids"]
    gas = summary["l1_gas"]["rollup"]
    assert gas["append_txs"] == batches["posted"] and gas["append_batch"] > 0
    assert gas["finalize_txs"] > 0 and gas["total"] == gas["append_batch"] + gas["finalize"]
    twins = summary["twin_gas"]
    assert (
        twins["extrapolated"] and twins["regression"]["extrapolated"] and twins["competition"]["extrapolated"]
    )
    assert twins["total"] == twins["regression"]["total"] + twins["competition"]["total"] > gas["total"]

    v = summary["verifier"]
    assert v["disputes_total"] == 0 and v["disagreements"] == 0
    assert v["batches_checked"] >= batches["posted"] and set(v["verdicts"]) == {"valid"}
    assert summary["elapsed_s"] > 0
