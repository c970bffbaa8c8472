"""The verifier's one settings class: environment (`MLROLLUP_VERIFIER_*`) or arguments, checked at start.

Every setting has a default except which Rollup to follow: the deployment file that `mlrollup deploy`
wrote (`deployments/<chainId>.json`, which also says from which block to scan) or the Rollup's address
(`MLROLLUP_VERIFIER_ROLLUP_ADDRESS`; the Bridge is read from the Rollup and the scan starts at
`MLROLLUP_VERIFIER_FROM_BLOCK`, block 0 by default). Without a challenger key the verifier only watches
and reports. Bad values fail at construction with a message naming the variable and what to do
(`load_settings` turns the pydantic error into a `ConfigError` with one line per problem).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL

from l1_contracts.deploy import Deployment
from l1_contracts.deploy import load as load_deployment
from l1_contracts.errors import DeploymentError
from l1_contracts.settings_checks import check_address, check_l1_url, check_private_key
from service.db import normalize_database_url as _normalize_database_url
from service.settings import load_settings as _load_settings
from verifier.core.errors import ConfigError

ENV_PREFIX = "MLROLLUP_VERIFIER_"


def read_deployment(path: Path) -> Deployment:
    """The deployment file `mlrollup deploy` wrote; `ConfigError` saying what to do when it is missing
    or unreadable."""
    if not path.exists():
        raise ConfigError(
            f"deployment file {path} does not exist: run `mlrollup deploy` against the L1 first, or "
            f"point {ENV_PREFIX}DEPLOYMENT_FILE (--deployment-file) at the file it wrote"
        )
    try:
        return load_deployment(path)
    except DeploymentError as exc:
        raise ConfigError(f"deployment file {path}: {exc}") from None


class Settings(BaseSettings):
    """Everything the verifier is configured with. Environment prefix `MLROLLUP_VERIFIER_`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", validate_default=True, populate_by_name=True
    )

    # --- storage ---------------------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite:///data/verifier.db",
        description="SQLAlchemy URL: sqlite:///path/file.db (directory created) or postgresql://…",
    )

    # --- L1 ----------------------------------------------------------------------------------------
    l1_rpc_url: str = Field(default="http://127.0.0.1:8545")
    deployment_file: Path | None = None
    rollup_address: str | None = None
    from_block: int | None = Field(
        default=None, ge=0, description="first L1 block to scan (default: the deployment's block, else 0)"
    )
    confirmations: int = Field(
        default=1, ge=0, le=1_000, description="blocks a batch must be under before it is judged"
    )
    poll_interval_s: float = Field(default=1.0, gt=0, le=3_600)
    l1_timeout_s: float = Field(default=120.0, gt=0, le=3_600, description="wait for a tx's receipt")

    # --- the fraud game ----------------------------------------------------------------------------
    challenger_key: SecretStr | None = Field(
        default=None, description="hex private key that challenges and proves; none: watch and report"
    )
    auto_withdraw: bool = Field(default=True, description="withdraw the game's payouts as they come")

    # --- API -----------------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8100, ge=1, le=65_535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(default="info")

    _deployment: Deployment | None = PrivateAttr(None)  # set by `_resolve_rollup`

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalize_database_url(value).render_as_string(hide_password=False)

    @field_validator("l1_rpc_url")
    @classmethod
    def _check_l1_url(cls, value: str) -> str:
        return check_l1_url(value)

    @field_validator("rollup_address")
    @classmethod
    def _check_rollup(cls, value: str | None) -> str | None:
        return check_address(value)

    @field_validator("challenger_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        return check_private_key(value)

    @model_validator(mode="after")
    def _resolve_rollup(self) -> Settings:
        path = self.deployment_file
        if path is not None:
            deployment = read_deployment(path)
            rollup = self._check_rollup(deployment.rollup)
            if self.rollup_address is not None and self.rollup_address != rollup:
                raise ConfigError(
                    f"{ENV_PREFIX}ROLLUP_ADDRESS={self.rollup_address} disagrees with the Rollup {rollup} in "
                    f"{path}: unset one of them"
                )
            self._deployment = deployment
            self.rollup_address = rollup
            if self.from_block is None:
                self.from_block = deployment.block_number
        if self.rollup_address is None:
            raise ConfigError(
                f"no Rollup to follow: set {ENV_PREFIX}DEPLOYMENT_FILE (--deployment-file) to the "
                f"deployments/<chainId>.json that `mlrollup deploy` wrote, or {ENV_PREFIX}ROLLUP_ADDRESS"
            )
        if self.from_block is None:
            self.from_block = 0
        return self

    @property
    def deployment(self) -> Deployment | None:
        """The deployment file's contents, when one was given."""
        return self._deployment

    @property
    def scan_from(self) -> int:
        """The first L1 block the reader scans."""
        assert self.from_block is not None  # _resolve_rollup
        return self.from_block

    @property
    def rollup(self) -> str:
        """The checksummed address of the Rollup followed."""
        assert self.rollup_address is not None  # _resolve_rollup
        return self.rollup_address


def normalize_database_url(value: str) -> URL:
    """`service.db.normalize_database_url` for this role's database."""
    return _normalize_database_url(value, what_is_lost="the disputes")


def load_settings(**overrides: Any) -> Settings:
    """`Settings` from the environment and `overrides`; `ConfigError` with one line per problem."""
    return _load_settings(Settings, ENV_PREFIX, ConfigError, **overrides)
