"""Loading a role's pydantic-settings class with errors a user can act on: one line a problem,
naming the environment variable to fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

T = TypeVar("T")


def settings_error_message(exc: ValidationError, prefix: str) -> str:
    """`invalid settings:` and one `PREFIX_NAME: what is wrong` line per error."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]).upper() or "SETTINGS"
        env = where if where.startswith(prefix) else f"{prefix}{where}"
        lines.append(f"{env}: {error['msg'].removeprefix('Value error, ')}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def load_settings(
    factory: Callable[..., T], prefix: str, error: Callable[[str], Exception], **overrides: Any
) -> T:
    """`factory(**overrides)` (a settings class reading the environment); a validation failure is
    raised as `error(message)`."""
    try:
        return factory(**overrides)
    except ValidationError as exc:
        raise error(settings_error_message(exc, prefix)) from None
