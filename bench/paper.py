"""The paper's experiment (Table I) through the rollup's transactions, to the bit.

Nine data points, a 2-parameter linear regression scaled by 10^7, learning rate 10^-4, per-sample
SGD: one epoch, then 2,000 epochs, as the paper's Solidity contract computes them.
Run: `python -m bench.paper`. `--quick` (what CI runs) is the same run: the whole experiment takes
a fraction of a second, and its 2,000-epoch figure is the one worth checking.
"""

from __future__ import annotations

import argparse
import time

from bench.fees import FEE_PRICE, FEES
from protocol.paper import PAPER_WEIGHTS, PAPER_X, PAPER_Y
from protocol.signing import Domain, address_of, sign_tx
from protocol.state import State
from protocol.tensors import IntTensor
from protocol.transition import BatchContext, apply_batch
from protocol.txs import AddData, CreateModel, Train

EXPECTED = PAPER_WEIGHTS
DOMAIN = Domain(chain_id=31337, verifying_contract=b"\x5f" * 20)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.paper", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same run (it is already small)")
    parser.parse_args(argv)
    key = (1).to_bytes(32, "big")
    ctx = BatchContext(DOMAIN, FEES, 1)
    setup = [
        sign_tx(
            DOMAIN,
            CreateModel(0, 1, 1000, IntTensor.vector([10 * 10**7, 2 * 10**7]), max_fee_price=FEE_PRICE),
            key,
        ).encoded,
        sign_tx(
            DOMAIN,
            AddData(
                1,
                0,
                IntTensor.matrix([[x] for x in PAPER_X]),
                IntTensor.vector(PAPER_Y),
                max_fee_price=FEE_PRICE,
            ),
            key,
        ).encoded,
    ]
    funded = State.with_balances({address_of(key): 10**18})  # its txs' fees (docs/spec.md section 6)
    state = apply_batch(funded, [], setup, ctx).post_state
    nonce, epochs = 2, 0
    for target in (1, 2000):
        train = sign_tx(DOMAIN, Train(nonce, 0, target - epochs, max_fee_price=FEE_PRICE), key).encoded
        start = time.perf_counter()
        result = apply_batch(state, [], [train], ctx)
        seconds = time.perf_counter() - start
        state, nonce, epochs = result.post_state, nonce + 1, target
        model = state.model(0)
        assert model is not None
        verdict = "matches the paper's contract" if model.weights == EXPECTED[target] else "MISMATCH"
        print(
            f"after {target:>4} epochs: w0={model.weights[0]}, w1={model.weights[1]} ({verdict}); "
            f"{len(result.steps)} steps with a root each in {seconds:.2f} s"
        )
        if model.weights != EXPECTED[target]:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
