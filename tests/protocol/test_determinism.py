"""Same inputs in two fresh processes give the same roots (no hash seeds, threads or floats leak in)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
from tests.vectors.generate import scenario
_, results, _ = scenario()
for r in results:
    print(r.post_root.hex(), r.trace_root.hex())
"""


def run_fresh(seed: str, threads: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "OMP_NUM_THREADS": threads}
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_two_fresh_processes_agree() -> None:
    first, second = run_fresh("1", "1"), run_fresh("4242", "2")
    assert first == second
    assert len(first.splitlines()) == 3
