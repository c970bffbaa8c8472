"""Settings: defaults, the environment, the deployment file, and messages a user can act on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from l1_contracts.deploy import Deployment, save
from verifier.core.config import Settings, load_settings
from verifier.core.errors import ConfigError

ROLLUP = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
KEY = "0x" + "01" * 32


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("MLROLLUP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_deployment(directory: Path, block: int = 5) -> Path:
    deployment = Deployment(
        chain_id=31337,
        rollup=ROLLUP,
        bridge="0x" + "22" * 20,
        deployer="0x" + "33" * 20,
        block_number=block,
        bond=10**18,
        challenge_window=10,
        genesis_root=b"\x00" * 32,
    )
    return save(deployment, directory)


def test_defaults_with_a_rollup_address() -> None:
    s = Settings(rollup_address=ROLLUP.lower())
    assert s.rollup == ROLLUP  # checksummed
    assert s.database_url == "sqlite:///data/verifier.db" and Path("data").is_dir()
    assert (s.l1_rpc_url, s.confirmations, s.host, s.port) == ("http://127.0.0.1:8545", 1, "127.0.0.1", 8100)
    assert s.challenger_key is None and s.auto_withdraw and s.scan_from == 0 and s.deployment is None


def test_the_deployment_file_gives_the_rollup_and_the_first_block(tmp_path: Path) -> None:
    path = write_deployment(tmp_path / "deployments", block=42)
    s = Settings(deployment_file=path)
    assert s.rollup == ROLLUP and s.scan_from == 42 and s.deployment is not None
    assert Settings(deployment_file=path, from_block=50).scan_from == 50
    with pytest.raises(ConfigError, match="disagrees with the Rollup"):
        Settings(deployment_file=path, rollup_address="0x" + "44" * 20)


def test_environment_with_its_own_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLROLLUP_VERIFIER_ROLLUP_ADDRESS", ROLLUP)
    monkeypatch.setenv("MLROLLUP_VERIFIER_CHALLENGER_KEY", KEY)
    monkeypatch.setenv("MLROLLUP_VERIFIER_CONFIRMATIONS", "3")
    monkeypatch.setenv("MLROLLUP_VERIFIER_AUTO_WITHDRAW", "false")
    monkeypatch.setenv("MLROLLUP_DATABASE_URL", "postgresql://u@db/sequencer")  # the sequencer's: ignored
    s = Settings()
    assert s.confirmations == 3 and not s.auto_withdraw and s.database_url.startswith("sqlite:")
    assert s.challenger_key is not None and s.challenger_key.get_secret_value() == KEY
    assert KEY not in repr(s)
    monkeypatch.setenv("MLROLLUP_VERIFIER_DATABASE_URL", "postgresql://u:pw@db:5432/v")
    assert Settings().database_url == "postgresql+psycopg://u:pw@db:5432/v"


def test_what_cannot_work_fails_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no Rollup to follow"):
        load_settings()
    with pytest.raises(ConfigError, match="does not exist: run `mlrollup deploy`"):
        load_settings(deployment_file=tmp_path / "missing.json")
    with pytest.raises(ConfigError) as info:
        load_settings(
            rollup_address="0x12",
            challenger_key="0xzz",
            database_url="mysql://x",
            l1_rpc_url="localhost:8545",
            confirmations=-1,
            port=0,
        )
    message = str(info.value)
    for name in ("ROLLUP_ADDRESS", "CHALLENGER_KEY", "DATABASE_URL", "L1_RPC_URL", "CONFIRMATIONS", "PORT"):
        assert f"MLROLLUP_VERIFIER_{name}:" in message
    with pytest.raises(ConfigError, match="in-memory SQLite"):
        load_settings(rollup_address=ROLLUP, database_url="sqlite://")
    assert load_settings(rollup_address=ROLLUP, challenger_key="").challenger_key is None
