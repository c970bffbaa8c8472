"""Golden vectors for the Solidity side to replay: `python -m tests.vectors.generate [DIR]`.

Everything here is deterministic (fixed keys, times and data), so regenerating gives the same files;
`tests/protocol/test_vectors.py` checks the committed files against a fresh generation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch

from protocol import kernels, params, reference
from protocol.codec import encode_batch
from protocol.deposits import Deposit, deposit_hash, rolling_hashes
from protocol.fees import FeeSchedule
from protocol.hashing import keccak, merkle_proof, merkle_range_proof, merkle_root
from protocol.models import Arch, validate_spec
from protocol.serialize import hx, witness_to_json
from protocol.signing import address_of, sign_tx, signing_digest, struct_hash
from protocol.smt import SparseMerkleTree, root_after_update
from protocol.state import State
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_tx, root_of_test_set
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.txrules import model_commitment
from protocol.txs import (
    CommitModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    Train,
    Transfer,
    Tx,
    Withdraw,
)
from protocol.witness import build_witness
from tests.support.domain import DOMAIN
from tests.support.paper import paper_add_data, paper_create_model
from tests.support.wallets import ETH

# The vectors' deployment charges fees (docs/spec.md section 6): a price and recipient of their own,
# written to domain.json with the domain, so the files stand alone.
FEE_PRICE = 10**9
FEES = FeeSchedule(FEE_PRICE, bytes.fromhex("fee0" * 10))
S = params.FIXED_SCALE


def key(i: int) -> bytes:
    return keccak(b"mlrollup vector key" + bytes([i]))


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return hx(value)
    if isinstance(value, IntTensor):
        return {"shape": list(value.shape), "values": list(value.values)}
    if isinstance(value, int) and abs(value) >= 2**53:
        return str(value)
    return value


def tx_fields(tx: Tx) -> dict[str, Any]:
    return {name: _jsonable(getattr(tx, name)) for name in tx.__dataclass_fields__}


def scenario() -> tuple[list[tuple[Tx, bytes]], list[BatchResult], dict[str, Any]]:
    """Two batches covering every tx type, deposits, a scoring job and a training job."""
    sub, miner, trainer = key(0), key(1), key(2)
    sub_a, miner_a, trainer_a = address_of(sub), address_of(miner), address_of(trainer)
    spec = validate_spec(Arch.MLP, 3, 2, 2)
    features = IntTensor.matrix([[i * S // 4, -i * S // 8, (i % 3) * S] for i in range(8)])
    labels = IntTensor.vector([i % 2 for i in range(8)])
    test_salt, model_salt = keccak(b"test salt"), keccak(b"model salt")
    test_commit = commitment_to_test_set(root_of_test_set(spec, features, labels), 8, test_salt)
    weights = IntTensor.vector([(i * 7919) % (2 * S) - S for i in range(spec.param_count)])
    signed: list[tuple[Tx, bytes]] = []

    def sign(tx: Tx, k: bytes) -> bytes:
        raw = sign_tx(DOMAIN, tx, k).encoded
        signed.append((tx, k))
        return raw

    deposits = [Deposit(0, sub_a, 50 * ETH), Deposit(1, miner_a, 5 * ETH), Deposit(2, trainer_a, ETH)]
    batch1 = [
        sign(Transfer(0, trainer_a, 2 * ETH, max_fee_price=FEE_PRICE), sub),
        sign(
            CreateTask(
                1,
                Arch.MLP,
                3,
                2,
                2,
                10 * ETH,
                100,
                200,
                test_commit,
                keccak(b"train data"),
                max_fee_price=FEE_PRICE,
            ),
            sub,
        ),
        sign(
            CommitModel(
                0,
                0,
                model_commitment(0, miner_a, weights_hash(weights.values), model_salt),
                max_fee_price=FEE_PRICE,
            ),
            miner,
        ),
        sign(paper_create_model(0, FEE_PRICE), trainer),
        sign(paper_add_data(1, 0, 4, FEE_PRICE), trainer),
        sign(Train(2, 0, 2, max_fee_price=FEE_PRICE), trainer),
        sign(Withdraw(3, trainer_a, ETH // 2, max_fee_price=FEE_PRICE), trainer),
        b"\x01\x02",  # does not decode: a failed step
        sign(
            Transfer(1, sub_a, 10**30, max_fee_price=FEE_PRICE), miner
        ),  # insufficient balance: a failed step
        sign(Transfer(0, sub_a, 1, max_fee_price=FEE_PRICE), miner),  # BAD_NONCE: its nonce is spent
        sign(Transfer(1, sub_a, 1, max_fee_price=FEE_PRICE - 1), miner),  # FEE_PRICE_TOO_LOW
        sign(Transfer(0, sub_a, 0, max_fee_price=FEE_PRICE), key(3)),  # FEE_UNPAID: no balance
    ]
    batch2 = [
        sign(reveal_tx(spec, 0, test_salt, features, labels, 2, max_fee_price=FEE_PRICE), sub),
        sign(RevealModel(1, 0, model_salt, weights, max_fee_price=FEE_PRICE), miner),
    ]
    batch3 = [sign(FinalizeTask(4, 0, max_fee_price=FEE_PRICE), trainer)]
    results = []
    state = State()
    for ts, deps, txs in ((50, deposits, batch1), (150, [], batch2), (250, [], batch3)):
        result = apply_batch(state, deps, txs, BatchContext(DOMAIN, FEES, ts))
        results.append(result)
        state = result.post_state
    meta = {"deposits": deposits}
    return signed, results, meta


def tx_vectors(signed: list[tuple[Tx, bytes]]) -> list[dict[str, Any]]:
    out = []
    for tx, k in signed:
        s = sign_tx(DOMAIN, tx, k)
        out.append(
            {
                "type": int(tx.TYPE),
                "name": type(tx).__name__,
                "fields": tx_fields(tx),
                "private_key": hx(k),
                "signer": hx(address_of(k)),
                "struct_hash": hx(struct_hash(tx)),
                "digest": hx(signing_digest(DOMAIN, tx)),
                "encoded": hx(s.encoded),
                "hash": hx(s.hash),
            }
        )
    return out


def batch_vectors(results: list[BatchResult]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        data = encode_batch(r.context.timestamp, list(r.txs))
        out.append(
            {
                "timestamp": r.context.timestamp,
                "batch_data": hx(data),
                "tx_root": hx(merkle_root([keccak(t) for t in r.txs])),
                "deposits": [
                    {
                        "index": d.index,
                        "recipient": hx(d.recipient),
                        "amount": str(d.amount),
                        "hash": hx(deposit_hash(d)),
                    }
                    for d in r.deposits
                ],
                "pre_root": hx(r.pre_state.root),
                "post_root": hx(r.post_root),
                "trace_root": hx(r.trace_root),
                "receipts": [
                    {"tx_hash": hx(x.tx_hash), "reason": int(x.reason), "fee": str(x.fee)} for x in r.receipts
                ],
                "steps": [
                    {
                        "kind": int(s.kind),
                        "state_root": hx(s.state_root),
                        "cursor": s.machine.cursor,
                        "step_hash": hx(s.hash),
                        "witness": witness_to_json(build_witness(r, s.index)),
                    }
                    for s in r.steps
                ],
            }
        )
    return out


def smt_vectors() -> dict[str, Any]:
    items = [(keccak(b"k" + bytes([i])), keccak(b"v" + bytes([i]))[: 1 + i % 32]) for i in range(24)]
    # two keys sharing a long prefix exercise a deep split
    items.append((items[0][0][:30] + b"\xff\xff", b"deep"))
    tree = SparseMerkleTree.from_items(items)
    absent = [keccak(b"absent" + bytes([i])) for i in range(6)]
    proofs = [{"key": hx(k), "value": hx(v), "proof": hx(tree.prove(k).encode())} for k, v in items[:8]] + [
        {"key": hx(k), "value": None, "proof": hx(tree.prove(k).encode())} for k in absent
    ]
    updates = []
    for k, new in [
        (items[3][0], b"updated"),
        (absent[0], b"inserted"),
        (absent[1], b""),
        (items[5][0], items[5][1]),
    ]:
        proof = tree.prove(k)
        old = tree.get(k)
        new_root = root_after_update(k, old, new, proof)
        assert new_root == tree.set(k, new).root
        updates.append(
            {
                "key": hx(k),
                "old": None if old is None else hx(old),
                "new": hx(new),
                "proof": hx(proof.encode()),
                "new_root": hx(new_root),
            }
        )
    return {
        "items": [[hx(k), hx(v)] for k, v in items],
        "root": hx(tree.root),
        "proofs": proofs,
        "updates": updates,
    }


def merkle_vectors() -> list[dict[str, Any]]:
    out = []
    for n in (0, 1, 2, 3, 5, 8):
        leaves = [keccak(bytes([i])) for i in range(n)]
        out.append(
            {
                "leaves": [hx(x) for x in leaves],
                "root": hx(merkle_root(leaves)),
                "proofs": [[hx(p) for p in merkle_proof(leaves, i)] for i in range(n)],
                # every run [first, first + count): the range proofs of RevealTestSet
                "ranges": [
                    {"first": f, "count": c, "proof": [hx(p) for p in merkle_range_proof(leaves, f, c)]}
                    for f in range(n)
                    for c in range(1, n - f + 1)
                ],
            }
        )
    return out


def kernel_vectors() -> dict[str, Any]:
    zs = [
        0,
        1,
        -1,
        S - 1,
        S,
        -S,
        19 * S // 8,
        -(19 * S // 8) - 1,
        5 * S - 1,
        5 * S,
        -5 * S,
        params.ELEMENT_MAX,
        -params.ELEMENT_MAX,
    ]
    sig = [reference.sigmoid_plan(z, S) for z in zs]
    assert kernels.sigmoid_plan(torch.tensor(zs), S).tolist() == sig
    return {
        "scale": S,
        "sigmoid": [[z, y] for z, y in zip(zs, sig, strict=True)],
        "tdiv": [
            [a, b, reference.tdiv(a, b)]
            for a, b in [(7, 2), (-7, 2), (7, -2), (-7, -2), (-1, S), (-(2**60), S)]
        ],
    }


def deposit_vectors(deposits: list[Deposit]) -> dict[str, Any]:
    return {
        "deposits": [
            {"index": d.index, "recipient": hx(d.recipient), "amount": str(d.amount)} for d in deposits
        ],
        "hashes": [hx(deposit_hash(d)) for d in deposits],
        "rolling": [hx(h) for h in rolling_hashes(deposits)],
    }


def generate() -> dict[str, Any]:
    """Every vector file's content, by file name."""
    signed, results, meta = scenario()
    return {
        "domain.json": {
            "name": params.EIP712_NAME,
            "version": params.EIP712_VERSION,
            "chain_id": DOMAIN.chain_id,
            "verifying_contract": hx(DOMAIN.verifying_contract),
            "separator": hx(DOMAIN.separator),
            "fee_price": FEES.price,
            "fee_recipient": hx(FEES.recipient),
        },
        "txs.json": tx_vectors(signed),
        "batches.json": batch_vectors(results),
        "smt.json": smt_vectors(),
        "merkle.json": merkle_vectors(),
        "kernels.json": kernel_vectors(),
        "deposits.json": deposit_vectors(meta["deposits"]),
    }


def dump(content: Any) -> str:
    return json.dumps(content, indent=1, sort_keys=True) + "\n"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in generate().items():
        (out / name).write_text(dump(content))
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
