"""The README's SDK quick start ("Using the rollup"), run as written against the running stack: only
the two URLs are the stack's (the README's are `make up`'s), so the example cannot drift from the SDK."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from tests.client.conftest import ClientStack
from tests.support.servers import ROOT

pytestmark = pytest.mark.e2e


def quick_start() -> str:
    section = (ROOT / "README.md").read_text().split("## Using the rollup", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "the README's section has no python example"
    return match.group(1)


def test_the_readme_quick_start_runs(client_stack: ClientStack) -> None:
    code = quick_start()
    assert "http://127.0.0.1:8000" in code and "http://127.0.0.1:8545" in code
    l1_url = client_stack.stack.sequencer_env["MLROLLUP_L1_RPC_URL"]
    code = code.replace("http://127.0.0.1:8000", client_stack.url).replace("http://127.0.0.1:8545", l1_url)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    reason, fee, balance = printed.getvalue().split()
    assert reason == "OK" and int(fee) > 0 and int(balance) == 10**18 - 10**17 - int(fee)
