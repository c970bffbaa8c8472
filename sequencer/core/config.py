"""The sequencer's one settings class: environment (`MLROLLUP_*`) or arguments, checked at start.

Every setting has a default except the signing domain (the L1 chain id and the Rollup contract's
address) and the fee schedule (the Rollup's fee price and recipient), which come from the deployment
file that `mlrollup deploy` writes (`deployments/<chainId>.json`) or from `MLROLLUP_CHAIN_ID`,
`MLROLLUP_ROLLUP_ADDRESS`, `MLROLLUP_FEE_PRICE` and `MLROLLUP_FEE_RECIPIENT`; following L1 checks both
against the Rollup. Bad values
fail at construction with a message naming the variable and what to do (`load_settings` turns the
pydantic error into a `ConfigError` with one line per problem).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL

from l1_contracts.deploy import Deployment
from l1_contracts.deploy import load as load_deployment
from l1_contracts.errors import DeploymentError
from l1_contracts.settings_checks import check_address, check_l1_url, check_private_key
from protocol.fees import FeeSchedule
from protocol.params import MAX_BATCH_STEPS, MAX_BATCH_TXS, MAX_JOB_STEPS, MAX_TX_BYTES
from protocol.signing import Domain, address_from_hex, address_of, to_checksum_address
from sequencer.core.errors import ConfigError
from sequencer.faults import DEVNET_CHAIN_IDS, FaultKind
from service.db import normalize_database_url as _normalize_database_url
from service.httpserver import ServerLimits
from service.jsonlimits import DEFAULT_MAX_DEPTH
from service.settings import load_settings as _load_settings

# Batch data: u8 version ‖ u64 timestamp ‖ u32 count, then u24 length ‖ bytes a tx (docs/spec.md 4).
BATCH_HEADER_BYTES = 13
BATCH_TX_OVERHEAD = 3
MIN_BATCH_BYTES = BATCH_HEADER_BYTES + BATCH_TX_OVERHEAD + MAX_TX_BYTES  # one largest tx must fit

# The largest legitimate request bodies, in compact JSON. One tx in its typed form with its tensors
# as nested lists takes at most 7 characters an encoded byte (`[-128],` for a one-byte element in a
# row of its own), plus its other fields and a typed-data document's `types`: every tx fits
# MIN_BODY_BYTES. A list sends each tx as `{"raw": "0x…"}` (two hex digits a byte), with room for
# `from` and `domain`.
MIN_BODY_BYTES = 8 * MAX_TX_BYTES + 2**16
LIST_TX_BYTES = 2 * MAX_TX_BYTES + 512
DEFAULT_MAX_LIST_TXS = 1_000


def list_body_bytes(max_list_txs: int) -> int:
    """The largest legitimate `POST /v1/txs/batch` body: `max_list_txs` raw txs of MAX_TX_BYTES."""
    return 2**10 + max_list_txs * LIST_TX_BYTES


def default_max_body_bytes(max_list_txs: int = DEFAULT_MAX_LIST_TXS) -> int:
    """The body limit that admits every legitimate request: one tx in any form, or a full list."""
    return max(MIN_BODY_BYTES, list_body_bytes(max_list_txs))


def read_deployment(path: Path) -> Deployment:
    """The deployment file `mlrollup deploy` wrote (`l1_contracts.deploy`); `ConfigError` saying what
    to do when it is missing or unreadable."""
    if not path.exists():
        raise ConfigError(
            f"deployment file {path} does not exist: run `mlrollup deploy` against the L1 first, "
            "or point MLROLLUP_DEPLOYMENT_FILE at the file it wrote"
        )
    try:
        return load_deployment(path)
    except DeploymentError as exc:
        raise ConfigError(f"deployment file {path}: {exc}") from None


class Settings(BaseSettings):
    """Everything the sequencer service is configured with. Environment prefix `MLROLLUP_`."""

    model_config = SettingsConfigDict(
        env_prefix="MLROLLUP_", extra="ignore", validate_default=True, populate_by_name=True
    )

    # --- storage ---------------------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite:///data/sequencer.db",
        validation_alias=AliasChoices("MLROLLUP_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL: sqlite:///path/file.db (directory created) or postgresql://…",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="FULL: an acknowledged tx survives power loss; NORMAL: only a process crash",
    )

    # --- L1 and the signing domain ------------------------------------------------------------------
    deployment_file: Path | None = None
    chain_id: int | None = Field(default=None, gt=0)
    rollup_address: str | None = None
    fee_price: int | None = Field(default=None, ge=0, le=2**64 - 1, description="wei an L2 fee unit")
    fee_recipient: str | None = Field(default=None, description="L2 address credited with every fee")
    l1_rpc_url: str = Field(default="http://127.0.0.1:8545")
    proposer_key: SecretStr | None = None
    deposit_confirmations: int = Field(default=1, ge=0, le=1_000)
    deposit_poll_s: float = Field(default=2.0, gt=0, le=3_600)
    follow_l1: bool = Field(
        default=True,
        description="follow L1: the Bridge's deposits and the Rollup's batches (rolling back what L1 "
        "deleted, adopting other proposers' valid batches; `mlrollup sequencer` only; needs the L1 RPC URL)",
    )
    batcher: bool = Field(
        default=False,
        description="run the batch posting daemon inside the service (needs MLROLLUP_PROPOSER_KEY); "
        "`mlrollup batcher` runs it as its own process instead",
    )
    batcher_poll_s: float = Field(default=1.0, gt=0, le=3_600)
    finalize_batches: bool = Field(
        default=True, description="the batcher also finalizes batches whose challenge window has passed"
    )

    # --- blocks and batches -------------------------------------------------------------------------
    block_interval_s: float = Field(default=1.0, gt=0, le=3_600)
    block_max_txs: int = Field(default=1_000, ge=1, le=MAX_BATCH_TXS)
    batch_max_txs: int = Field(default=MAX_BATCH_TXS, ge=1, le=MAX_BATCH_TXS)
    batch_max_bytes: int = Field(default=126_000, ge=MIN_BATCH_BYTES, le=10_000_000)
    batch_max_age_s: float = Field(default=10.0, gt=0, le=7 * 86_400)

    executor: Literal["process", "inline"] = Field(
        default="process",
        description="where blocks execute: a worker process (the API keeps its CPU) or the builder's thread",
    )

    # --- API limits ---------------------------------------------------------------------------------
    max_list_txs: int = Field(default=DEFAULT_MAX_LIST_TXS, ge=1, le=MAX_BATCH_TXS)
    max_body_bytes: int = Field(
        default_factory=lambda data: default_max_body_bytes(data.get("max_list_txs", DEFAULT_MAX_LIST_TXS)),
        ge=MIN_BODY_BYTES,
        le=2**30,
        description="largest request body; by default a list of max_list_txs raw txs of MAX_TX_BYTES "
        "(240 MB for 1,000), and never less than one tx in any form",
    )
    max_json_depth: int = Field(
        default=DEFAULT_MAX_DEPTH,
        ge=8,
        le=1_000,
        description="deepest nesting of arrays and objects in a request body (legitimate ones nest 6)",
    )
    # --- pending work and the server's limits (docs/api.md, "Limits") ----------------------------
    max_pending_steps: int = Field(
        default=25 * MAX_BATCH_STEPS,
        ge=1,
        le=10**9,
        description="steps of work all pending txs together may hold (a Train takes 1 + epochs x chunks, "
        "a RevealModel 1 + scoring chunks, other txs 1); beyond it, 429 mempool_full with Retry-After",
    )
    max_pending_steps_per_sender: int = Field(
        default=4 * (1 + MAX_JOB_STEPS),
        ge=1,
        le=10**9,
        description="steps of work one sender's pending txs may hold, and one submission may take; beyond "
        "it, 429 sender_busy with Retry-After (below 1 + MAX_JOB_STEPS the largest jobs are never taken)",
    )
    max_long_polls: int = Field(
        default=1_000,
        ge=0,
        le=100_000,
        description="requests that may wait at once (`?wait=` on a tx or a block); beyond it they answer "
        "at once with what there is",
    )
    limit_concurrency: int = Field(
        default=2_048,
        ge=16,
        le=100_000,
        description="requests the server handles at once; beyond it, 503 `overloaded` with Retry-After "
        "(and uvicorn refuses connections beyond twice it)",
    )
    timeout_keep_alive_s: float = Field(
        default=5.0, gt=0, le=3_600, description="an idle keep-alive connection is closed after this"
    )
    request_header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=3_600,
        description="a request's line and headers must arrive within this (from the connection, or the "
        "end of the previous answer), or the server answers 408 and closes the connection",
    )
    request_timeout_s: float = Field(
        default=60.0,
        gt=0,
        le=3_600,
        description="a request's body must arrive within this after its headers, or the server answers "
        "408 request_timeout and closes the connection (a list of max_list_txs txs is 240 MB)",
    )
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65_535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(default="info")

    # --- following L1, and the unsafe fault drills (sequencer.follower, sequencer.faults) -----------
    follow_poll_s: float = Field(
        default=1.0,
        gt=0,
        le=3_600,
        description="how often the sequencer reads L1's batches (MLROLLUP_DEPOSIT_CONFIRMATIONS deep) to "
        "follow deletions and other proposers' batches (with MLROLLUP_FOLLOW_L1)",
    )
    unsafe_fault: FaultKind | None = Field(
        default=None,
        description="UNSAFE, tests only: commit this wrong result once in a posted batch (a fault drill, "
        "sequencer.faults); refused unless the chain id is a devnet's (31337, 1337)",
    )
    unsafe_fault_at: int = Field(
        default=0, ge=0, description="the fault drill fires in the first batch from this id on that it fits"
    )

    _deployment: Deployment | None = PrivateAttr(None)  # set by `_resolve_domain`

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

    @field_validator("proposer_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        return check_private_key(value)

    @model_validator(mode="after")
    def _resolve_domain(self) -> Settings:
        path = self.deployment_file
        if path is None and self.chain_id is not None and self.rollup_address is None:
            candidate = Path("deployments") / f"{self.chain_id}.json"
            path = candidate if candidate.exists() else None
        if path is not None:
            deployment = read_deployment(path)
            if self.chain_id is not None and self.chain_id != deployment.chain_id:
                raise ConfigError(
                    f"MLROLLUP_CHAIN_ID={self.chain_id} disagrees with chain id {deployment.chain_id} in "
                    f"{path}: unset one of them"
                )
            rollup = self._check_rollup(deployment.rollup)
            if self.rollup_address is not None and self.rollup_address != rollup:
                raise ConfigError(
                    f"MLROLLUP_ROLLUP_ADDRESS={self.rollup_address} disagrees with the Rollup {rollup} "
                    f"in {path}: unset one of them"
                )
            if deployment.fee_recipient:  # format 3 files carry the fee schedule
                for name, mine, theirs in (
                    ("MLROLLUP_FEE_PRICE", self.fee_price, deployment.fee_price),
                    ("MLROLLUP_FEE_RECIPIENT", self.fee_recipient, deployment.fee_recipient),
                ):
                    if mine is not None and str(mine).lower() != str(theirs).lower():
                        raise ConfigError(f"{name}={mine} disagrees with {theirs} in {path}: unset it")
                self.fee_price = deployment.fee_price
                self.fee_recipient = deployment.fee_recipient
            self._deployment = deployment
            self.deployment_file = path
            self.chain_id = deployment.chain_id
            self.rollup_address = rollup
        if self.batcher and self.proposer_key is None:
            raise ConfigError(
                "MLROLLUP_BATCHER is on but MLROLLUP_PROPOSER_KEY is not set: give the proposer's private "
                "key (its account must hold the Rollup's bond), or turn the batcher off"
            )
        if self.chain_id is None or self.rollup_address is None:
            raise ConfigError(
                "no signing domain: set MLROLLUP_DEPLOYMENT_FILE to the deployments/<chainId>.json that "
                "`mlrollup deploy` wrote, or both MLROLLUP_CHAIN_ID and MLROLLUP_ROLLUP_ADDRESS"
            )
        if self.fee_price is None or self.fee_recipient is None:
            raise ConfigError(
                "no fee schedule: set MLROLLUP_DEPLOYMENT_FILE to a deployments/<chainId>.json that "
                "`mlrollup deploy` wrote, or both MLROLLUP_FEE_PRICE and MLROLLUP_FEE_RECIPIENT (the "
                "Rollup's feePrice and feeRecipient)"
            )
        self.fee_recipient = self._check_rollup(self.fee_recipient)
        return self

    @model_validator(mode="after")
    def _check_fault_drill(self) -> Settings:
        if self.unsafe_fault is not None and self.chain_id not in DEVNET_CHAIN_IDS:
            raise ConfigError(
                f"MLROLLUP_UNSAFE_FAULT={self.unsafe_fault.value} makes the sequencer post a wrong batch: "
                "it is a test drill for devnets only (chain id 31337 or 1337), and this is chain "
                f"{self.chain_id}: unset MLROLLUP_UNSAFE_FAULT"
            )
        return self

    @property
    def server_limits(self) -> ServerLimits:
        """What the HTTP server waits for, and how long (`service.httpserver`)."""
        return ServerLimits(
            header_timeout_s=self.request_header_timeout_s,
            body_timeout_s=self.request_timeout_s,
            limit_concurrency=self.limit_concurrency,
            timeout_keep_alive_s=self.timeout_keep_alive_s,
        )

    @property
    def proposer_address(self) -> str | None:
        """The checksummed address of MLROLLUP_PROPOSER_KEY, when it is set."""
        if self.proposer_key is None:
            return None
        key = bytes.fromhex(self.proposer_key.get_secret_value().removeprefix("0x"))
        return to_checksum_address(address_of(key))

    @property
    def deployment(self) -> Deployment | None:
        """The deployment file's contents, when the domain came from one."""
        return self._deployment

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain every tx is signed for."""
        assert self.chain_id is not None and self.rollup_address is not None  # _resolve_domain
        return Domain.from_hex(self.chain_id, self.rollup_address)

    @property
    def fees(self) -> FeeSchedule:
        """The fee schedule every tx pays by (the Rollup's `feePrice` and `feeRecipient`)."""
        assert self.fee_price is not None and self.fee_recipient is not None  # _resolve_domain
        return FeeSchedule(self.fee_price, address_from_hex(self.fee_recipient))

    def public(self) -> dict[str, Any]:
        """The settings a client may see (no keys, no database credentials)."""
        return {
            "chain_id": self.chain_id,
            "rollup_address": self.rollup_address,
            "fee_price": self.fee_price,
            "fee_recipient": self.fee_recipient,
            "block_interval_s": self.block_interval_s,
            "block_max_txs": self.block_max_txs,
            "batch_max_txs": self.batch_max_txs,
            "batch_max_bytes": self.batch_max_bytes,
            "batch_max_age_s": self.batch_max_age_s,
            "max_body_bytes": self.max_body_bytes,
            "max_json_depth": self.max_json_depth,
            "max_list_txs": self.max_list_txs,
        }


def normalize_database_url(value: str) -> URL:
    """`service.db.normalize_database_url` for this role's database."""
    return _normalize_database_url(value, what_is_lost="acknowledged txs")


def load_settings(**overrides: Any) -> Settings:
    """`Settings` from the environment and `overrides`; `ConfigError` with one line per problem."""
    return _load_settings(Settings, "MLROLLUP_", ConfigError, **overrides)
