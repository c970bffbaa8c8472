"""docker-compose.yml and the Dockerfile, checked without Docker: every service runs a real
`mlrollup` role, every setting it passes is one the sequencer knows and accepts, the dev keys are the
devnet's, and the image holds every package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from l1_contracts.devnet import dev_accounts
from mlrollup.cli import app
from sequencer.core.config import Settings
from verifier.core.config import Settings as VerifierSettings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_every_service_runs_a_real_role(compose: dict[str, Any]) -> None:
    roles = set(get_command(app).commands)  # type: ignore[attr-defined]
    built = {name: s for name, s in compose["services"].items() if s.get("build") == "."}
    assert set(built) == {"devnet", "deploy", "sequencer", "verifier"}
    for name, service in built.items():
        assert service["command"][0] in roles, f"{name} runs {service['command'][0]!r}"


def test_the_sequencer_settings_are_valid(compose: dict[str, Any]) -> None:
    env = dict(compose["services"]["sequencer"]["environment"])
    fields = {f"MLROLLUP_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, set(env) - fields
    values: dict[str, Any] = {k.removeprefix("MLROLLUP_").lower(): v for k, v in env.items()}
    values.pop("deployment_file")  # written by the deploy service at run time
    values.update(
        chain_id=31337,
        rollup_address="0x" + "11" * 20,
        fee_price=10**9,
        fee_recipient="0x" + "22" * 20,
        batcher=True,
    )
    # the postgres URL names a host of the compose network: validating it creates nothing
    settings = Settings(**values)
    assert settings.database_url.startswith("postgresql+psycopg://postgres@postgres:5432/")
    assert settings.l1_rpc_url == "http://devnet:8545" and settings.host == "0.0.0.0"
    assert compose["services"]["deploy"]["command"][2] == settings.l1_rpc_url


def test_the_verifier_settings_are_valid(compose: dict[str, Any]) -> None:
    env = dict(compose["services"]["verifier"]["environment"])
    fields = {f"MLROLLUP_VERIFIER_{name.upper()}" for name in VerifierSettings.model_fields}
    assert set(env) <= fields, set(env) - fields
    values: dict[str, Any] = {k.removeprefix("MLROLLUP_VERIFIER_").lower(): v for k, v in env.items()}
    values.pop("deployment_file")  # written by the deploy service at run time
    values.update(rollup_address="0x" + "11" * 20)
    settings = VerifierSettings(**values)
    assert settings.l1_rpc_url == compose["services"]["deploy"]["command"][2]
    assert settings.challenger_key is not None and settings.database_url.endswith("/data/verifier.db")
    # its own database, never the sequencer's
    assert settings.database_url != compose["services"]["sequencer"]["environment"]["MLROLLUP_DATABASE_URL"]


def test_the_keys_are_the_devnets_and_the_image_holds_every_package(compose: dict[str, Any]) -> None:
    keys = compose["x-dev-keys"]
    accounts = dev_accounts(3)
    assert (keys["deployer"], keys["proposer"], keys["challenger"]) == tuple(a.private_key for a in accounts)
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \1$", dockerfile, flags=re.M))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied, packages - copied
    torch_pin = next(d for d in project["project"]["dependencies"] if d.startswith("torch"))
    assert "torch==2.13.0" in dockerfile and "<2.14" in torch_pin  # the image satisfies the range
