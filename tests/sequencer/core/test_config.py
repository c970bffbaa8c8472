"""Settings: defaults, environment, the deployment file, and messages a user can act on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from l1_contracts.deploy import Deployment, save
from protocol.signing import to_checksum_address
from sequencer.core.config import MIN_BATCH_BYTES, Settings, load_settings
from sequencer.core.errors import ConfigError, StartupError
from tests.sequencer.helpers import ROLLUP
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT_ADDRESS, FEES

FEE_SETTINGS: dict[str, Any] = {"fee_price": FEE_PRICE, "fee_recipient": FEE_RECIPIENT_ADDRESS}

ENV = ("MLROLLUP_", "DATABASE_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(ENV):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_with_a_domain() -> None:
    s = Settings(chain_id=31337, rollup_address=ROLLUP.lower(), **FEE_SETTINGS)
    assert s.database_url == "sqlite:///data/sequencer.db"
    assert Path("data").is_dir()  # the SQLite file's directory is created
    assert s.rollup_address == ROLLUP  # checksummed
    assert s.domain == DOMAIN and s.fees == FEES
    assert s.block_max_txs == 1_000 and s.batch_max_bytes >= MIN_BATCH_BYTES
    assert "database_url" not in s.public() and s.public()["chain_id"] == 31337


def test_environment_and_database_url_alias(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLROLLUP_CHAIN_ID", "5")
    monkeypatch.setenv("MLROLLUP_ROLLUP_ADDRESS", ROLLUP)
    monkeypatch.setenv("MLROLLUP_FEE_PRICE", str(FEE_PRICE))
    monkeypatch.setenv("MLROLLUP_FEE_RECIPIENT", FEE_RECIPIENT_ADDRESS)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@db:5432/rollup")
    monkeypatch.setenv("MLROLLUP_BLOCK_INTERVAL_S", "0.25")
    s = Settings()
    assert s.chain_id == 5 and s.block_interval_s == 0.25
    assert s.database_url == "postgresql+psycopg://u:pw@db:5432/rollup"
    monkeypatch.setenv("MLROLLUP_DATABASE_URL", f"sqlite:///{tmp_path}/a/b.db")
    assert Settings().database_url.endswith("/a/b.db")  # the prefixed name wins


def write_deployment(directory: Path, chain_id: int = 31337, genesis: bytes = b"\x00" * 32) -> Path:
    deployment = Deployment(
        chain_id=chain_id,
        rollup=ROLLUP,
        bridge="0x" + "22" * 20,
        deployer="0x" + "33" * 20,
        block_number=1,
        bond=10**18,
        challenge_window=60,
        genesis_root=genesis,
        fee_price=FEE_PRICE,
        fee_recipient=FEE_RECIPIENT_ADDRESS,
    )
    return save(deployment, directory)


def test_deployment_file_gives_the_domain(tmp_path: Path) -> None:
    path = write_deployment(tmp_path / "deployments")
    assert path.name == "31337.json"
    s = Settings(deployment_file=path)
    assert (s.chain_id, s.rollup_address) == (31337, ROLLUP)
    assert s.fees == FEES  # the fee schedule comes with it
    assert s.deployment is not None and s.deployment.bridge.lower() == "0x" + "22" * 20


def test_chain_id_finds_deployments_dir() -> None:
    write_deployment(Path("deployments"))
    s = Settings(chain_id=31337)
    assert s.rollup_address == ROLLUP and s.deployment_file == Path("deployments/31337.json")


def test_missing_deployment_file_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match=r"does not exist: run `mlrollup deploy`"):
        Settings(deployment_file=Path("deployments/1.json"))


def test_no_domain_at_all_says_what_to_set() -> None:
    with pytest.raises(
        ConfigError, match=r"MLROLLUP_DEPLOYMENT_FILE.*MLROLLUP_CHAIN_ID and MLROLLUP_ROLLUP_ADDRESS"
    ):
        Settings()


def test_deployment_disagreeing_with_explicit_settings(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    with pytest.raises(ConfigError, match="disagrees with chain id 31337"):
        Settings(deployment_file=path, chain_id=1)
    other = to_checksum_address(b"\x01" * 20)
    with pytest.raises(ConfigError, match="disagrees with the Rollup"):
        Settings(deployment_file=path, rollup_address=other, **FEE_SETTINGS)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read deployment"),
        ("[1]", "does not hold a JSON object"),
        ('{"chain_id": 7}', "not a deployment record"),
    ],
)
def test_bad_deployment_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "d.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        Settings(deployment_file=path)


@pytest.mark.parametrize(
    ("overrides", "variable", "message"),
    [
        ({"database_url": "nonsense"}, "MLROLLUP_DATABASE_URL", "is not a database URL"),
        ({"database_url": "mysql://x/y"}, "MLROLLUP_DATABASE_URL", "unsupported database"),
        ({"database_url": "postgresql+psycopg2://x/y"}, "MLROLLUP_DATABASE_URL", "use postgresql\\+psycopg"),
        ({"database_url": "sqlite://"}, "MLROLLUP_DATABASE_URL", "in-memory SQLite"),
        ({"l1_rpc_url": "localhost:8545"}, "MLROLLUP_L1_RPC_URL", "is not an L1 JSON-RPC URL"),
        ({"rollup_address": "0x1234"}, "MLROLLUP_ROLLUP_ADDRESS", "not a 20-byte 0x address"),
        ({"proposer_key": "0xnothex"}, "MLROLLUP_PROPOSER_KEY", "32-byte secp256k1 private key"),
        ({"block_interval_s": 0}, "MLROLLUP_BLOCK_INTERVAL_S", "greater than 0"),
        ({"batch_max_bytes": 1000}, "MLROLLUP_BATCH_MAX_BYTES", str(MIN_BATCH_BYTES)),
        ({"port": 70000}, "MLROLLUP_PORT", "less than or equal to 65535"),
    ],
)
def test_bad_values_name_the_variable(overrides: dict[str, object], variable: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"(?s){variable}: .*{message}"):
        load_settings(**{"chain_id": 1, "rollup_address": ROLLUP, **FEE_SETTINGS, **overrides})


def test_proposer_key_is_secret() -> None:
    key = "0x" + "01" * 32
    s = Settings(chain_id=1, rollup_address=ROLLUP, proposer_key=SecretStr(key), **FEE_SETTINGS)
    assert s.proposer_key is not None and s.proposer_key.get_secret_value() == key
    assert key not in repr(s)


def test_a_deployment_with_another_genesis_is_refused_at_start(tmp_path: Path) -> None:
    from sequencer.node import Sequencer

    path = write_deployment(tmp_path / "deployments", genesis=b"\x01" * 32)
    node = Sequencer(Settings(deployment_file=path, database_url=f"sqlite:///{tmp_path}/s.db"))
    with pytest.raises(StartupError, match="genesis root 0x0101"):
        node.start()
    node.close()


def test_body_limit_admits_the_largest_legitimate_bodies() -> None:
    import json

    from protocol.params import MAX_BATCH_TXS, MAX_TX_BYTES
    from sequencer.core.config import MIN_BODY_BYTES, default_max_body_bytes

    def list_body(n: int) -> int:  # len(json.dumps({"txs": [{"raw": "0x…"}] * n})) without building it
        item = len(json.dumps({"raw": "0x" + "00" * MAX_TX_BYTES}))
        return len(json.dumps({"txs": []})) + n * item + (n - 1) * len(", ")

    s = Settings(chain_id=31337, rollup_address=ROLLUP, **FEE_SETTINGS)
    assert s.max_body_bytes == default_max_body_bytes(s.max_list_txs) >= list_body(s.max_list_txs)
    widest = Settings(chain_id=31337, rollup_address=ROLLUP, max_list_txs=MAX_BATCH_TXS, **FEE_SETTINGS)
    assert list_body(MAX_BATCH_TXS) <= widest.max_body_bytes <= 2**30
    assert (
        Settings(chain_id=31337, rollup_address=ROLLUP, max_list_txs=1, **FEE_SETTINGS).max_body_bytes
        == MIN_BODY_BYTES
    )
    assert MIN_BODY_BYTES >= 7 * MAX_TX_BYTES  # one tx with its tensors as nested lists
    explicit = Settings(chain_id=31337, rollup_address=ROLLUP, max_body_bytes=MIN_BODY_BYTES, **FEE_SETTINGS)
    assert explicit.max_body_bytes == MIN_BODY_BYTES
    with pytest.raises(ConfigError, match="MLROLLUP_MAX_BODY_BYTES"):
        load_settings(
            chain_id=31337, rollup_address=ROLLUP, max_body_bytes=MIN_BODY_BYTES - 1, **FEE_SETTINGS
        )
    with pytest.raises(ConfigError, match="MLROLLUP_MAX_JSON_DEPTH"):
        load_settings(chain_id=31337, rollup_address=ROLLUP, max_json_depth=2, **FEE_SETTINGS)
