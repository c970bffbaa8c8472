"""`mlrollup verifier`: the verifier's loop on a thread and its REST API with uvicorn, configured from
the environment (`MLROLLUP_VERIFIER_*`) and these flags. SIGINT and SIGTERM stop it cleanly: the round
in progress finishes (a transaction sent is recorded), then the API stops."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from service.httpserver import ServerLimits, serve
from service.recursion import cap_recursion_limit
from verifier.api import create_app
from verifier.core.config import ENV_PREFIX, Settings, load_settings
from verifier.core.errors import ConfigError, VerifierError
from verifier.node import VerifierNode

log = logging.getLogger("verifier")

DESCRIPTION = f"""\
Follow the L1 Rollup, re-execute every posted batch from L1 data alone, and play the fraud game
against the earliest wrong one: challenge it with the challenger bond, wait for the proposer's step
hashes (or win when they do not come in time), prove the first wrong step or the wrong last leaf,
and withdraw the payout. Without a challenger key it only watches and reports. Its own database keeps
the verdicts and the disputes, so a restart resumes a dispute without challenging twice. REST API:
/healthz, /readyz (200 once caught up with L1), /v1/status, /v1/batches, /v1/disputes, /metrics.
Every option may also be given as an environment variable {ENV_PREFIX}<NAME> (e.g.
{ENV_PREFIX}CHALLENGER_KEY, which keeps the key out of the process list); options win."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlrollup verifier",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    l1 = p.add_argument_group("L1")
    l1.add_argument(
        "--deployment-file",
        metavar="PATH",
        help="the deployments/<chainId>.json that `mlrollup deploy` wrote (Rollup, Bridge, first block)",
    )
    l1.add_argument("--rollup-address", metavar="0x…", help="the Rollup to follow, without a deployment file")
    l1.add_argument(
        "--from-block", type=int, metavar="N", help="first L1 block to scan (default: the deployment's, or 0)"
    )
    l1.add_argument("--l1-rpc-url", metavar="URL", help="L1 JSON-RPC endpoint (http://127.0.0.1:8545)")
    l1.add_argument(
        "--confirmations", type=int, metavar="N", help="blocks deep a batch must be before it is judged (1)"
    )
    l1.add_argument("--poll-interval", dest="poll_interval_s", type=float, metavar="S", help="seconds (1.0)")
    game = p.add_argument_group("the fraud game")
    game.add_argument(
        "--challenger-key",
        metavar="0x…",
        help="hex private key that challenges, proves and withdraws (its account pays the bond and gas); "
        "without one the verifier only watches",
    )
    game.add_argument(
        "--no-auto-withdraw",
        dest="auto_withdraw",
        action="store_const",
        const=False,
        help="leave the game's payouts credited on the Rollup instead of withdrawing them",
    )
    serve = p.add_argument_group("storage and API")
    serve.add_argument(
        "--database-url",
        metavar="URL",
        help="sqlite:///path/file.db (sqlite:///data/verifier.db) or postgresql://user@host:5432/db",
    )
    serve.add_argument("--host", help="API address (127.0.0.1)")
    serve.add_argument("--port", type=int, help="API port (8100)")
    serve.add_argument(
        "--log-level", choices=["critical", "error", "warning", "info", "debug"], help="(info)"
    )
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings: the environment, overridden by the flags given. Exits 2 with the problems."""
    overrides: dict[str, Any] = {k: v for k, v in vars(args).items() if v is not None}
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _stopped(signum: int) -> None:
    log.info("verifier stopped (signal %d)", signum)


def main(argv: list[str] | None = None) -> int:
    """`mlrollup verifier`: returns the exit status (0 stopped by a signal, 1 could not start, 2 bad
    settings)."""
    # web3's and py-evm's imports (done above) raise the recursion limit far past what the C stack
    # holds: a parse nested that deep would kill the process instead of raising RecursionError
    cap_recursion_limit()
    settings = settings_from(parser().parse_args(argv))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    node = VerifierNode(settings)
    try:
        node.open()
    except (VerifierError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the database refused the migration: say which and why
        print(f"error: cannot open the database {settings.database_url}: {exc}", file=sys.stderr)
        return 1
    log.info("verifier API on http://%s:%d", settings.host, settings.port)
    # uvicorn handles SIGINT and SIGTERM (the app's shutdown stops the loop after its current round);
    # serve then returns, a clean exit (status 0), and `_stopped` logs the signal
    serve(  # uvicorn, with timeouts for slow and idle clients (service.httpserver)
        create_app(settings, node=node),
        ServerLimits(),
        on_stop=_stopped,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
    )
    node.close()
    return 0
