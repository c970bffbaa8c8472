"""Typed errors of the protocol package. `ProtocolError` is the root of all of them."""


class ProtocolError(Exception):
    """Root of every error the protocol package raises."""


class CodecError(ProtocolError):
    """Bytes that do not decode: trailing bytes, unknown type, over-long field, value out of range."""


class SignatureError(ProtocolError):
    """A signature that does not recover, or a signing request that cannot be honoured."""


class ProofError(ProtocolError):
    """A Merkle proof that is malformed or does not match the root it is checked against."""


class BoundsError(ProtocolError):
    """A tensor or scalar outside the bounds that rule out int64 overflow (docs/spec.md, numerics)."""


class WitnessError(ProtocolError):
    """A step witness that is incomplete or inconsistent with the roots it claims."""


class FraudProofError(ProtocolError):
    """A fraud proof that cannot be built: the claim is not one L1 accepts (e.g. an empty trace)."""
