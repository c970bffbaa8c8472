"""GET /v1/accounts/{address}: committed and pending balance and nonce."""

from __future__ import annotations

from fastapi.testclient import TestClient

from protocol.signing import to_checksum_address
from protocol.txs import Transfer
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import raw_body
from tests.support.fees import FEE_PRICE, fee_of
from tests.support.wallets import ETH


def test_account_balances_and_nonces(client: TestClient, chain: Chain) -> None:
    a, b = chain.wallets[:2]
    url = f"/v1/accounts/{to_checksum_address(a.address)}"
    assert client.get(url).json() == {
        "address": to_checksum_address(a.address),
        "balance": str(100 * ETH),
        "nonce": 0,
        "pending_balance": str(100 * ETH),
        "pending_nonce": 0,
        "block": 1,
    }
    raw = a.sign(lambda n: Transfer(n, b.address, ETH, max_fee_price=FEE_PRICE))
    client.post("/v1/txs", json=raw_body(raw))
    left = 99 * ETH - fee_of(raw)
    got = client.get(url.lower()).json()  # lower-case addresses are fine
    assert (got["nonce"], got["pending_nonce"], got["pending_balance"]) == (0, 1, str(left))
    chain.tick()
    got = client.get(url).json()
    assert (got["balance"], got["nonce"], got["block"]) == (str(left), 1, 2)
    unknown = client.get("/v1/accounts/0x" + "12" * 20).json()
    assert (unknown["balance"], unknown["nonce"]) == ("0", 0)


def test_bad_addresses(client: TestClient, chain: Chain) -> None:
    for bad in ("0x1234", "nothex", "0x" + "zz" * 20):
        r = client.get(f"/v1/accounts/{bad}")
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_hex")
    # well-formed hex whose mixed case is not its EIP-55 checksum: most likely a typo
    r = client.get("/v1/accounts/0x2b5ad5c4795c026514f8317c7a215e218dccd6CF")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "bad_checksum")
    assert "checksum" in r.json()["error"]["message"]
