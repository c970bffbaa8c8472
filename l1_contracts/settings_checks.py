"""Checks of the L1 settings every role takes (its node's URL, the Rollup's address, a signing key),
written once for the roles' pydantic settings classes; each raises `ValueError` with what to give."""

from __future__ import annotations

from pydantic import SecretStr

from protocol.signing import address_from_hex, address_of, to_checksum_address


def check_l1_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("http", "https", "ws", "wss") or not rest.strip("/"):
        raise ValueError(
            f"{value!r} is not an L1 JSON-RPC URL: use http(s)://host:port (e.g. http://127.0.0.1:8545)"
        )
    return value


def check_address(value: str | None) -> str | None:
    """The checksummed form of a 0x address (None stays None)."""
    if value is None:
        return None
    try:
        return to_checksum_address(address_from_hex(value))
    except ValueError as exc:
        raise ValueError(f"not a 20-byte 0x address: {exc}") from None


def check_private_key(value: SecretStr | None) -> SecretStr | None:
    """A 32-byte secp256k1 key in hex (None, or an empty one, is None)."""
    if value is None or not value.get_secret_value():
        return None
    text = value.get_secret_value().removeprefix("0x")
    try:
        address_of(bytes.fromhex(text))
    except Exception:
        raise ValueError("must be a 32-byte secp256k1 private key in hex (0x…)") from None
    return value
