"""`mlrollup sequencer` and `mlrollup batcher`: the service with uvicorn, and the batch posting
daemon on its own, both configured from the environment (`MLROLLUP_*`) and these flags."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import KeySender
from l1_contracts.reader import L1Reader
from sequencer.batcher import Batcher, BatcherConfig
from sequencer.core.config import Settings, load_settings
from sequencer.core.errors import ConfigError, StartupError
from sequencer.core.metrics import Metrics
from sequencer.db.session import Database
from sequencer.db.store import Store
from sequencer.l1 import L1Batches
from sequencer.l1_web3 import BridgeDeposits, RollupPoster, connect
from sequencer.main import create_app
from sequencer.node import Sequencer
from service.httpserver import serve
from service.recursion import cap_recursion_limit

log = logging.getLogger("sequencer")


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=f"{description} Options override MLROLLUP_<NAME> environment variables."
    )
    parser.add_argument("--database-url")
    parser.add_argument("--deployment-file")
    parser.add_argument("--chain-id", type=int)
    parser.add_argument("--rollup-address")
    parser.add_argument("--l1-rpc-url")
    parser.add_argument("--proposer-key", help="hex private key of the proposer (for the batcher)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {k: v for k, v in vars(args).items() if v is not None}
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return settings


def _from_block(settings: Settings) -> int:
    return settings.deployment.block_number if settings.deployment is not None else 0


def _poster(settings: Settings) -> RollupPoster:
    assert settings.proposer_key is not None and settings.rollup_address is not None
    rollup = Rollup(connect(settings.l1_rpc_url), settings.rollup_address)
    sender = KeySender.from_hex(settings.proposer_key.get_secret_value())
    return RollupPoster(rollup, sender, from_block=_from_block(settings))


def _deposits(settings: Settings) -> BridgeDeposits:
    """The deposit watcher's source; the Bridge is the deployment's, or the Rollup's `bridge()` read
    on first use (the service starts even while its L1 is down, and the watcher retries)."""
    assert settings.rollup_address is not None
    w3 = connect(settings.l1_rpc_url)
    rollup_address = settings.rollup_address
    deployment = settings.deployment
    bridge: Bridge | Callable[[], Bridge]
    if deployment is not None:
        bridge = Bridge(w3, deployment.bridge)
    else:
        bridge = lambda: Bridge(w3, Rollup(w3, rollup_address).bridge_address())  # noqa: E731
    return BridgeDeposits(
        bridge, confirmations=settings.deposit_confirmations, from_block=_from_block(settings)
    )


def _l1_batches(settings: Settings) -> Callable[[], L1Batches]:
    """What makes the follower's L1 reader (on first use: the service starts while L1 is down). It
    reads the batches as deep as the deposits, MLROLLUP_DEPOSIT_CONFIRMATIONS blocks."""
    assert settings.rollup_address is not None
    rollup_address = settings.rollup_address

    def make() -> L1Batches:
        return L1Reader.connect(
            connect(settings.l1_rpc_url),
            rollup_address,
            from_block=_from_block(settings),
            confirmations=settings.deposit_confirmations,
        )

    return make


def main(argv: list[str] | None = None) -> None:
    """`mlrollup sequencer`: the REST API, mempool and block builder; with `--batcher` (or
    MLROLLUP_BATCHER=1) also the batch posting daemon; follows L1 deposits unless told not to."""
    cap_recursion_limit()  # the imports above raised it (py_ecc); see service.recursion
    parser = _parser("mlrollup sequencer", "Run the mlrollup sequencer.")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--batcher", action="store_const", const=True, help="also post batches to L1")
    parser.add_argument(
        "--no-follow-l1",
        dest="follow_l1",
        action="store_const",
        const=False,
        help="ignore L1's deposits and batches",
    )
    settings = _settings(parser.parse_args(argv))
    node = Sequencer(settings)
    try:
        node.start()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    source = _deposits(settings) if settings.follow_l1 else None
    poster = _poster(settings) if settings.batcher else None
    l1_batches = _l1_batches(settings) if settings.follow_l1 else None
    app = create_app(settings, sequencer=node, deposit_source=source, poster=poster, l1_batches=l1_batches)
    serve(
        app,
        settings.server_limits,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
    )


def batcher_main(argv: list[str] | None = None) -> int:
    """`mlrollup batcher`: post the sealed batches a sequencer stores in its database, until Ctrl-C
    or SIGTERM (exit status 0). While L1 contradicts the database it waits for the sequencer, which
    follows L1, to bring the database in line."""
    cap_recursion_limit()  # the imports above raised it (py_ecc); see service.recursion
    parser = _parser("mlrollup batcher", "Post the sequencer's sealed batches to the L1 Rollup.")
    settings = _settings(parser.parse_args(argv))
    if settings.proposer_key is None:
        print("error: MLROLLUP_PROPOSER_KEY (or --proposer-key) is required", file=sys.stderr)
        return 2
    db = Database.connect(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    store = Store(db)
    try:
        store.migrate()
        store.check_domain(settings.domain)
        poster = _poster(settings)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    config = BatcherConfig.from_settings(settings)
    batcher = Batcher(store, poster, config, metrics=Metrics())

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping the batcher (signal %d)", signum)
        batcher.stop(timeout=0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    log.info("batcher started: proposer %s, L1 %s", poster.sender.address, settings.l1_rpc_url)
    batcher.run()
    db.dispose()
    return 0


if __name__ == "__main__":
    main()
