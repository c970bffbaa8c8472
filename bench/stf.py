"""State-transition benchmark: throughput with per-step roots, root time at scale, MLP scoring.

Run: `python -m bench.stf` (or `make bench`; `--quick` for smaller sizes, as CI runs it). Prints its
figures; targets are ratios and thresholds quoted in docs/results.md, never asserted in tests.

The MLP part scores a test set of 360 samples (the digits task's 20%), revealed in runs of chunks.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from typing import TypeVar

import torch

from bench.fees import FEE_PRICE, FEES
from protocol import kernels, params
from protocol.models import Arch, validate_spec
from protocol.signing import Domain, sign_tx
from protocol.state import State
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_txs, root_of_test_set
from protocol.transition import BatchContext, apply_batch
from protocol.txrules import model_commitment
from protocol.txs import CommitModel, CreateTask, RevealModel, Transfer

T = TypeVar("T")
DOMAIN = Domain(chain_id=31337, verifying_contract=b"\x5f" * 20)
ETH = 10**18


def _key(i: int) -> bytes:
    return (i + 1).to_bytes(32, "big")


def _address(key: bytes) -> bytes:
    from eth_account import Account

    return bytes.fromhex(Account.from_key(key).address[2:])


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def signed_transfers(n: int, senders: int, accounts: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """`n` transfers from `senders` signers to addresses spread over `accounts`."""
    keys = [_key(i) for i in range(senders)]
    addrs = [_address(k) for k in keys]
    nonces = [0] * senders
    txs = []
    for i in range(n):
        s = i % senders
        to = accounts[(i * 7919) % len(accounts)]
        txs.append(sign_tx(DOMAIN, Transfer(nonces[s], to, 1 + i, max_fee_price=FEE_PRICE), keys[s]).encoded)
        nonces[s] += 1
    return txs, addrs


def random_accounts(n: int) -> list[bytes]:
    gen = torch.Generator().manual_seed(7)
    raw = torch.randint(0, 256, (n, 20), dtype=torch.uint8, generator=gen)
    return [bytes(row.tolist()) for row in raw]


def bench_throughput(n_txs: int, n_accounts: int) -> None:
    accounts = random_accounts(n_accounts)
    txs, senders = signed_transfers(n_txs, 50, accounts)
    state = State.with_balances({a: ETH for a in accounts + senders})
    result, seconds = timed(lambda: apply_batch(state, [], txs, BatchContext(DOMAIN, FEES, 1)))
    assert all(r.success for r in result.receipts)
    print(
        f"simple txs with a root after every step: {n_txs} transfers over {n_accounts:,} accounts "
        f"in {seconds:.3f} s = {n_txs / seconds:,.0f} tx/s (target >= 2,000)"
    )


def bench_root_at_scale(n_txs: int, n_accounts: int) -> None:
    accounts = random_accounts(n_accounts)
    txs, senders = signed_transfers(n_txs, 100, accounts)
    state, build = timed(lambda: State.with_balances({a: ETH for a in accounts + senders}))
    # A long-lived state is hundreds of thousands of nodes: keep the cyclic GC from rescanning them.
    gc.freeze()
    print(f"bulk build of a {n_accounts:,}-account state: {build:.3f} s")
    result, seconds = timed(lambda: apply_batch(state, [], txs, BatchContext(DOMAIN, FEES, 1)))
    assert all(r.success for r in result.receipts)
    changed = result.post_state.tree.changes_since(state.tree)
    tree, root_only = timed(lambda: state.tree.set_many(changed))
    assert tree.root == result.post_root
    print(
        f"batch of {n_txs:,} txs over {n_accounts:,} accounts: post-state root of its {len(changed):,} "
        f"changed leaves in {root_only:.3f} s (target < 0.5 s); whole batch with {len(result.steps):,} "
        f"step roots, signatures included: {seconds:.3f} s"
    )


def bench_mlp_scoring(wanted: int) -> None:
    spec = validate_spec(Arch.MLP, 64, 32, 10)
    n_samples = wanted
    gen = torch.Generator().manual_seed(3)
    x = torch.randint(0, 17 * params.FIXED_SCALE, (n_samples, 64), generator=gen, dtype=torch.int64)
    y = torch.randint(0, 10, (n_samples,), generator=gen, dtype=torch.int64)
    w = torch.randint(-params.FIXED_SCALE, params.FIXED_SCALE, (spec.param_count,), generator=gen)
    w = w.to(torch.int64)
    _, kernel_s = timed(lambda: kernels.score_chunk(spec, w, x, y))
    # the same work through the rollup: a RevealModel tx scored chunk by chunk, with roots
    sub, miner = _key(0), _key(1)
    sub_a, miner_a = _address(sub), _address(miner)
    features, labels = IntTensor.from_torch(x), IntTensor.from_torch(y)
    weights = IntTensor.from_torch(w)
    salt = b"\x01" * 32
    commitment = commitment_to_test_set(root_of_test_set(spec, features, labels), n_samples, salt)
    state = State.with_balances({sub_a: 2 * ETH, miner_a: ETH})  # the reward and every tx's fee
    setup = [
        sign_tx(
            DOMAIN,
            CreateTask(0, Arch.MLP, 64, 32, 10, ETH, 10, 20, commitment, salt, max_fee_price=FEE_PRICE),
            sub,
        ).encoded,
        sign_tx(
            DOMAIN,
            CommitModel(
                0,
                0,
                model_commitment(0, miner_a, weights_hash(weights.values), salt),
                max_fee_price=FEE_PRICE,
            ),
            miner,
        ).encoded,
    ]
    state = apply_batch(state, [], setup, BatchContext(DOMAIN, FEES, 1)).post_state
    runs = reveal_txs(spec, 0, salt, features, labels, nonce=1, max_fee_price=FEE_PRICE)
    revealed = apply_batch(
        state, [], [sign_tx(DOMAIN, r, sub).encoded for r in runs], BatchContext(DOMAIN, FEES, 10)
    )
    assert all(r.success for r in revealed.receipts), [r.detail for r in revealed.receipts]
    state = revealed.post_state
    score_tx = sign_tx(
        DOMAIN, RevealModel(1, 0, salt, weights, max_fee_price=FEE_PRICE), miner
    ).encoded  # its nonce 1: after the commit
    result, rollup_s = timed(lambda: apply_batch(state, [], [score_tx], BatchContext(DOMAIN, FEES, 11)))
    assert result.receipts[0].success, result.receipts[0].detail
    print(
        f"scoring {n_samples} samples on a 64-32-10 MLP: kernel {kernel_s * 1e3:.1f} ms; through the "
        f"rollup in {len(result.steps) - 1} chunks of {spec.chunk_size} with a root each: "
        f"{rollup_s * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads")
    bench_throughput(500 if args.quick else 4_000, 1_000 if args.quick else 10_000)
    bench_root_at_scale(200 if args.quick else 1_000, 5_000 if args.quick else 100_000)
    bench_mlp_scoring(360)


if __name__ == "__main__":
    main()
