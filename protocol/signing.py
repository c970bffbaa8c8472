"""EIP-712 signing and sender recovery of transactions (docs/spec.md section 3, "Signing").

Struct hashes are computed directly (`typeHash ‖ one 32-byte word per field`, a tensor field being
`bytes` whose value is its encoding, so its word is `H(encoding)`), without eth-account on the hot
path; `typed_data` gives the same message as EIP-712 JSON for wallets and eth-account, and the tests
check that both agree. Addresses are 20 raw bytes; `address_from_hex` and `to_checksum_address`
convert from and to the usual strings.

Solidity twin: `l1_contracts/src/prover/TxCodec.sol` (struct hashes, digests, `recover_sender`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coincurve import PrivateKey, PublicKey

from protocol.codec import TX_FIELDS, Field, encode_tensor_field, encode_tx
from protocol.errors import SignatureError
from protocol.hashing import keccak
from protocol.params import EIP712_NAME, EIP712_VERSION, SECP256K1_N
from protocol.txs import TX_CLASSES, SignedTx, Tx, TxType

DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
_DOMAIN_TYPEHASH = keccak(DOMAIN_TYPE.encode())
_HALF_N = SECP256K1_N // 2
_ZERO12 = b"\x00" * 12


# --- addresses ----------------------------------------------------------------------------------


def to_checksum_address(address: bytes) -> str:
    """The EIP-55 mixed-case hex string of a 20-byte address."""
    if len(address) != 20:
        raise ValueError(f"an address is 20 bytes, got {len(address)}")
    lower = address.hex()
    digest = keccak(lower.encode()).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, digest, strict=False))


def address_from_hex(text: str) -> bytes:
    """20 bytes from a `0x`-prefixed hex address; a mixed-case string must carry a valid EIP-55 checksum."""
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if len(body) != 40:
        raise ValueError(f"an address is 40 hex digits, got {text!r}")
    address = bytes.fromhex(body)
    if body != body.lower() and body != body.upper() and to_checksum_address(address)[2:] != body:
        raise ValueError(f"bad EIP-55 checksum in {text!r}")
    return address


def _private_key(private_key: bytes) -> PrivateKey:
    if len(private_key) != 32:
        raise SignatureError(f"a private key is 32 bytes, got {len(private_key)}")
    try:
        return PrivateKey(private_key)
    except Exception as exc:
        raise SignatureError(f"invalid private key: {exc}") from None


def address_of(private_key: bytes) -> bytes:
    """The 20-byte address of a 32-byte secp256k1 private key."""
    public = _private_key(private_key).public_key
    return keccak(public.format(compressed=False)[1:])[12:]


# --- domain and types ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Domain:
    """The EIP-712 domain: L1 chain id and the Rollup contract's 20-byte address."""

    chain_id: int
    verifying_contract: bytes
    separator: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.verifying_contract) != 20:
            raise ValueError(f"verifying_contract is 20 bytes, got {len(self.verifying_contract)}")
        if not 0 <= self.chain_id < 1 << 256:
            raise ValueError(f"chain id {self.chain_id} does not fit in uint256")
        separator = keccak(
            _DOMAIN_TYPEHASH
            + keccak(EIP712_NAME.encode())
            + keccak(EIP712_VERSION.encode())
            + self.chain_id.to_bytes(32, "big")
            + _ZERO12
            + self.verifying_contract
        )
        object.__setattr__(self, "separator", separator)

    @classmethod
    def from_hex(cls, chain_id: int, verifying_contract: str) -> Domain:
        return cls(chain_id, address_from_hex(verifying_contract))

    def as_dict(self) -> dict[str, Any]:
        """The EIP-712 `domain` object."""
        return {
            "name": EIP712_NAME,
            "version": EIP712_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def type_string(tx_type: TxType) -> str:
    """The EIP-712 struct type of `tx_type`, e.g. `Transfer(uint64 nonce,address to,uint128 amount)`."""
    members = ",".join(f"{f.sol_type} {f.name}" for f in TX_FIELDS[tx_type])
    return f"{TX_CLASSES[tx_type].__name__}({members})"


_TYPEHASHES: dict[TxType, bytes] = {t: keccak(type_string(t).encode()) for t in TxType}


def type_hash(tx_type: TxType) -> bytes:
    return _TYPEHASHES[tx_type]


def _word(tx_type: TxType, f: Field, value: Any) -> bytes:
    kind = f.kind
    if kind == "addr":
        if len(value) != 20:
            raise SignatureError(f"{f.attr}: an address is 20 bytes, got {len(value)}")
        return _ZERO12 + bytes(value)
    if kind == "b32":
        if len(value) != 32:
            raise SignatureError(f"{f.attr}: expected 32 bytes, got {len(value)}")
        return bytes(value)
    if kind == "tensor":
        return keccak(encode_tensor_field(tx_type, f, value))
    if kind == "b32list":  # an array's word: the hash of its members' words
        if any(len(item) != 32 for item in value):
            raise SignatureError(f"{f.attr}: expected 32-byte hashes")
        return keccak(b"".join(bytes(item) for item in value))
    if not isinstance(value, int) or not 0 <= value <= f.type_max:
        raise SignatureError(f"{f.attr}: {value!r} does not fit in {f.sol_type}")
    return int(value).to_bytes(32, "big")


def struct_hash(tx: Tx) -> bytes:
    """EIP-712 `hashStruct(tx)`."""
    tx_type = tx.TYPE
    parts = [_TYPEHASHES[tx_type]]
    parts.extend(_word(tx_type, f, getattr(tx, f.attr)) for f in TX_FIELDS[tx_type])
    return keccak(b"".join(parts))


def signing_digest(domain: Domain, tx: Tx) -> bytes:
    """`H(0x19 0x01 ‖ domainSeparator ‖ hashStruct(tx))`."""
    return keccak(b"\x19\x01" + domain.separator + struct_hash(tx))


def _json_value(tx_type: TxType, f: Field, value: Any) -> Any:
    if f.kind == "addr":
        return to_checksum_address(value)
    if f.kind == "b32":
        return "0x" + bytes(value).hex()
    if f.kind == "tensor":
        return "0x" + encode_tensor_field(tx_type, f, value).hex()
    if f.kind == "b32list":
        return ["0x" + bytes(item).hex() for item in value]
    return int(value)


def typed_data(domain: Domain, tx: Tx) -> dict[str, Any]:
    """The full EIP-712 message (JSON-compatible): what a wallet's `eth_signTypedData_v4` signs.

    Addresses are checksum strings, `bytes32` and `bytes` (tensor encodings) `0x` hex strings.
    """
    tx_type = tx.TYPE
    name = TX_CLASSES[tx_type].__name__
    fields = TX_FIELDS[tx_type]
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            name: [{"name": f.name, "type": f.sol_type} for f in fields],
        },
        "primaryType": name,
        "domain": domain.as_dict(),
        "message": {f.name: _json_value(tx_type, f, getattr(tx, f.attr)) for f in fields},
    }


# --- signatures -----------------------------------------------------------------------------------


def sign_tx(domain: Domain, tx: Tx, private_key: bytes) -> SignedTx:
    """Sign `tx` (low-s, `v` 27 or 28); the result carries its encoding (`CodecError` if `tx` has none)."""
    key = _private_key(private_key)
    signature = key.sign_recoverable(signing_digest(domain, tx), hasher=None)
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = 27 + signature[64]
    return SignedTx.with_encoding(tx, r, s, v, encode_tx(SignedTx(tx, r, s, v)))


def recover_sender(domain: Domain, signed: SignedTx) -> bytes:
    """The 20-byte address that signed `signed.tx` under `domain`.

    `SignatureError` when `r` or `s` is 0, `r ≥ n`, `s > n/2` (EIP-2), `v ∉ {27, 28}` or recovery fails.
    """
    r, s, v = signed.r, signed.s, signed.v
    if not 0 < r < SECP256K1_N:
        raise SignatureError("signature r is 0 or not below the curve order")
    if not 0 < s <= _HALF_N:
        raise SignatureError("signature s is 0 or above n/2 (EIP-2)")
    if v not in (27, 28):
        raise SignatureError(f"signature v = {v}, must be 27 or 28")
    digest = signing_digest(domain, signed.tx)
    try:
        public = PublicKey.from_signature_and_message(
            r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((v - 27,)), digest, hasher=None
        )
    except Exception as exc:
        raise SignatureError(f"signature does not recover: {exc}") from None
    return keccak(public.format(compressed=False)[1:])[12:]
