"""The verifier's errors. `VerifierError` is the root; each message says what to do."""

from __future__ import annotations


class VerifierError(Exception):
    """Root of every error the verifier package raises."""


class ConfigError(VerifierError):
    """Settings that cannot work (bad URL or key, no deployment); the message says what to fix."""


class StartupError(VerifierError):
    """The verifier cannot follow this deployment: its database belongs to another Rollup, the Rollup's
    genesis is not the empty state, or the contract is not a Rollup of this protocol version."""


class DisputeError(VerifierError):
    """A dispute cannot go on as planned (a proof the Rollup refuses, a batch whose data is not
    available): the dispute is recorded with this message and the verifier stops acting on it."""
