"""Typed errors of the l1_contracts package. `L1Error` is the root of all of them."""


class L1Error(Exception):
    """Root of every error the l1_contracts package raises."""


class BuildError(L1Error):
    """The Solidity sources do not compile, or the toolchain (node, npm solc) is missing."""
