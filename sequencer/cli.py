"""`python -m sequencer`: run the sequencer service with uvicorn, configured from the environment."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

import uvicorn

from sequencer.core.config import load_settings
from sequencer.core.errors import ConfigError, StartupError
from sequencer.main import create_app
from sequencer.node import Sequencer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="mlrollup sequencer",
        description="Run the mlrollup sequencer. Options override MLROLLUP_<NAME> environment variables.",
    )
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--database-url")
    parser.add_argument("--deployment-file")
    parser.add_argument("--chain-id", type=int)
    parser.add_argument("--rollup-address")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {k: v for k, v in vars(args).items() if v is not None}
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    node = Sequencer(settings)
    try:
        node.start()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    app = create_app(settings, sequencer=node)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
