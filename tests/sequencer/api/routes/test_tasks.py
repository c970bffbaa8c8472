"""GET /v1/tasks/{id}: a whole competition round through the API, its phases and leaderboard."""

from __future__ import annotations

from functools import partial

from fastapi.testclient import TestClient

from protocol import params
from protocol.hashing import ZERO32, keccak
from protocol.models import Arch, validate_spec
from protocol.signing import to_checksum_address
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_tx, root_of_test_set
from protocol.txrules import model_commitment
from protocol.txs import CommitModel, CreateTask, FinalizeTask, RevealModel
from tests.sequencer.api.conftest import Chain
from tests.sequencer.helpers import raw_body
from tests.support.fees import FEE_PRICE
from tests.support.wallets import ETH

S = params.FIXED_SCALE


def test_competition_round(client: TestClient, chain: Chain) -> None:
    sub, m1, m2, m3 = chain.wallets[:4]
    now = chain.node.admission_timestamp()
    spec = validate_spec(Arch.LINREG, 2, 0, 0)
    rows = [[i * S, (i % 3) * S] for i in range(70)]
    features, labels = IntTensor.matrix(rows), IntTensor.vector([r[0] + r[1] for r in rows])
    salt = keccak(b"salt")
    commitment = commitment_to_test_set(root_of_test_set(spec, features, labels), 70, salt)

    sent: dict[bytes, list[str]] = {}  # each sender's tx hashes

    def send(raw: bytes) -> None:
        r = client.post("/v1/txs", json=raw_body(raw))
        assert r.status_code == 202, r.text
        sent.setdefault(bytes.fromhex(r.json()["sender"][2:]), []).append(r.json()["hash"])

    send(
        sub.sign(
            lambda n: CreateTask(
                n,
                Arch.LINREG,
                2,
                0,
                0,
                3 * ETH,
                now + 50,
                now + 100,
                commitment,
                ZERO32,
                max_fee_price=FEE_PRICE,
            )
        )
    )
    chain.tick()
    task = client.get("/v1/tasks/0").json()
    assert (task["phase"], task["arch"], task["reward"], task["leaderboard"]) == (
        "commit",
        "LINREG",
        str(3 * ETH),
        [],
    )
    weights = {m1.address: [S, S, 0], m2.address: [S, S, S // 2], m3.address: [S // 2, S, 0]}
    salts: dict[bytes, bytes] = {}
    for miner in (m2, m1, m3):  # m2 commits first
        salts[miner.address] = keccak(miner.address)
        c = model_commitment(0, miner.address, weights_hash(weights[miner.address]), salts[miner.address])
        send(miner.sign(partial(CommitModel, task_id=0, commitment=c, max_fee_price=FEE_PRICE)))
    chain.tick()
    board = client.get("/v1/tasks/0").json()["leaderboard"]
    assert [(e["miner"], e["status"], e["seq"]) for e in board] == [
        (to_checksum_address(m.address), "committed", i) for i, m in enumerate((m2, m1, m3))
    ]
    chain.node.clock.advance(60)  # type: ignore[attr-defined]
    chain.builder.seal()
    assert client.get("/v1/tasks/0").json()["phase"] == "reveal"
    send(sub.sign(lambda n: reveal_tx(spec, 0, salt, features, labels, n, max_fee_price=FEE_PRICE)))
    for miner in (m1, m2):  # m3 never reveals
        w = IntTensor.vector(weights[miner.address])
        send(
            miner.sign(
                partial(RevealModel, task_id=0, salt=salts[miner.address], weights=w, max_fee_price=FEE_PRICE)
            )
        )
    chain.tick()
    task = client.get("/v1/tasks/0").json()
    assert task["test_revealed"] and task["n_test"] == 70
    assert task["best"] == {"miner": to_checksum_address(m1.address), "score": 0, "seq": 1}
    assert [(e["rank"], e["score"], e["status"]) for e in task["leaderboard"]] == [
        (1, 0, "scored"),
        (2, -(S // 4), "scored"),
        (None, None, "committed"),
    ]
    chain.node.clock.advance(60)  # type: ignore[attr-defined]
    chain.builder.seal()
    assert client.get("/v1/tasks/0").json()["phase"] == "finalize"
    send(m3.sign(lambda n: FinalizeTask(n, 0, max_fee_price=FEE_PRICE)))
    chain.tick()
    task = client.get("/v1/tasks/0").json()
    assert task["phase"] == "finalized" and task["finalized"]
    balance = client.get(f"/v1/accounts/{to_checksum_address(m1.address)}").json()["balance"]
    fees = sum(int(client.get(f"/v1/txs/{h}").json()["receipt"]["fee"]) for h in sent[m1.address])
    assert fees > 0 and balance == str(103 * ETH - fees)  # the reward, less the fees m1 paid


def test_unknown_and_invalid_task_ids(client: TestClient, chain: Chain) -> None:
    r = client.get("/v1/tasks/7")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_task")
    for bad in ("-1", "abc", str(2**64)):
        r = client.get(f"/v1/tasks/{bad}")
        assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request")
