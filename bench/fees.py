"""The fee of each tx type at the default prices (docs/spec.md section 6, "Fees"):
`python -m bench.fees [--quick]`.

Every figure comes from the protocol itself: each tx is built, signed and executed through
`protocol.transition.apply_batch` on a state where it succeeds, and its receipt's fee is printed with
its units by part (`protocol.fees.fee_units`: bytes, steps, job MACs), in units and in L2 ETH at the
deployment default price (`l1_contracts.deploy.DEFAULT_FEE_PRICE`). The benchmarks that run txs
through the transition (`bench.stf`, `bench.pouw`, …) use `FEES` too, so their work pays as a
deployment's would.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from client import digits as digits_task
from l1_contracts.deploy import DEFAULT_FEE_PRICE
from protocol import params
from protocol.codec import decode_tx
from protocol.fees import FeeSchedule, fee_units
from protocol.hashing import keccak
from protocol.models import Arch, validate_spec
from protocol.paper import PAPER_X, PAPER_Y
from protocol.receipts import Receipt
from protocol.signing import Domain, address_of, sign_tx
from protocol.state import State
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_txs, root_of_test_set
from protocol.transition import BatchContext, apply_batch
from protocol.txrules import model_commitment
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    Train,
    Transfer,
    Tx,
    Withdraw,
)

FEE_PRICE = DEFAULT_FEE_PRICE
FEES = FeeSchedule(FEE_PRICE, bytes.fromhex("fee0" * 10))  # a recipient nobody holds the key of
DOMAIN = Domain(chain_id=31337, verifying_contract=bytes.fromhex("5fbdb2315678afecb367f032d93f642f64180aa3"))
ETH = 10**18


@dataclass(frozen=True, slots=True)
class Row:
    """One tx's fee: its bytes, its steps, its job's MACs, the units and the wei it paid."""

    name: str
    size: int
    steps: int
    macs: int
    units: int
    fee: int


class Chain:
    """A state and a clock; `run` executes signed txs through the transition with `FEES` and checks
    each one succeeded and paid `fee_units` of its pre-state."""

    def __init__(self, keys: list[bytes]) -> None:
        self.keys = keys
        self.state = State.with_balances({address_of(k): 1_000 * ETH for k in keys})
        self.now = 1_000

    def nonce(self, key: bytes) -> int:
        return self.state.account(address_of(key)).nonce

    def sign(self, key: bytes, make: Callable[[int], Tx]) -> bytes:
        return sign_tx(DOMAIN, make(self.nonce(key)), key).encoded

    def run(self, name: str, raws: list[bytes]) -> list[Row]:
        rows = []
        for raw in raws:  # one batch a tx, so each tx's pre-state is the state it ran on
            pre = self.state
            result = apply_batch(pre, [], [raw], BatchContext(DOMAIN, FEES, self.now))
            (receipt,) = result.receipts
            if not receipt.success:
                raise SystemExit(f"{name}: {receipt.reason.name}: {receipt.detail}")
            rows.append(_row(name, raw, receipt, pre))
            self.state = result.post_state
        return rows


def _row(name: str, raw: bytes, receipt: Receipt, pre: State) -> Row:
    units = fee_units(decode_tx(raw).tx, len(raw), pre)
    steps = receipt.last_step - receipt.first_step + 1
    if units.steps != steps or units.total * FEES.price != receipt.fee:
        raise SystemExit(f"{name}: the fee units disagree with the steps it ran or the fee it paid")
    return Row(name, units.data, units.steps, units.macs, units.total, receipt.fee)


def competition(chain: Chain, test_samples: int) -> list[Row]:
    """The demo's digits task (MLP 64-16-10 on `test_samples` held-out samples), one miner."""
    sub, miner = chain.keys[0], chain.keys[1]
    data = digits_task.load(test_samples)
    spec = validate_spec(Arch.MLP, 64, 16, 10)
    salt, msalt = keccak(b"test salt"), keccak(b"model salt")
    commitment = commitment_to_test_set(
        root_of_test_set(spec, data.features, data.labels), test_samples, salt
    )
    weights = digits_task.make_weights(digits_task.MINERS[3], data)  # the lazy miner: no training
    t = chain.now
    rows = chain.run(
        "CreateTask (digits, MLP 64-16-10)",
        [
            chain.sign(
                sub,
                lambda n: CreateTask(
                    n, Arch.MLP, 64, 16, 10, ETH, t + 10, t + 20, commitment, bytes(32), FEE_PRICE
                ),
            )
        ],
    )
    digest = model_commitment(0, address_of(miner), weights_hash(weights.values), msalt)
    rows += chain.run("CommitModel", [chain.sign(miner, lambda n: CommitModel(n, 0, digest, FEE_PRICE))])
    chain.now += 10
    runs = reveal_txs(spec, 0, salt, data.features, data.labels, chain.nonce(sub), max_fee_price=FEE_PRICE)
    reveal = chain.run(
        f"RevealTestSet ({test_samples} samples, {len(runs)} txs)",
        [sign_tx(DOMAIN, r, sub).encoded for r in runs],
    )
    rows.append(_sum(reveal))
    rows += chain.run(
        f"RevealModel (scores {test_samples} samples)",
        [chain.sign(miner, lambda n: RevealModel(n, 0, msalt, weights, FEE_PRICE))],
    )
    chain.now += 10
    rows += chain.run("FinalizeTask", [chain.sign(sub, lambda n: FinalizeTask(n, 0, FEE_PRICE))])
    return rows


def _sum(rows: list[Row]) -> Row:
    return Row(
        rows[0].name,
        sum(r.size for r in rows),
        sum(r.steps for r in rows),
        sum(r.macs for r in rows),
        sum(r.units for r in rows),
        sum(r.fee for r in rows),
    )


def shared_model(chain: Chain, epochs: tuple[int, ...]) -> list[Row]:
    """The paper's regression (1 feature, 9 points) and a full model (8 features, 128 points)."""
    owner = chain.keys[2]
    rows = chain.run(
        "CreateModel (the paper's, 1 feature)",
        [
            chain.sign(
                owner, lambda n: CreateModel(n, 1, 1000, IntTensor.vector([10 * 10**7, 2 * 10**7]), FEE_PRICE)
            )
        ],
    )
    xs = IntTensor.matrix([[x] for x in PAPER_X])
    rows += chain.run(
        "AddData (the paper's 9 points)",
        [chain.sign(owner, lambda n: AddData(n, 0, xs, IntTensor.vector(list(PAPER_Y)), FEE_PRICE))],
    )
    for e in epochs:
        train = chain.sign(owner, partial(_train, model_id=0, epochs=e))
        rows += chain.run(f"Train ({e} epochs of 9 points: {e} steps)", [train])
    chain.run("", [chain.sign(owner, lambda n: CreateModel(n, 8, 10, IntTensor.vector([0] * 9), FEE_PRICE))])
    big = IntTensor.matrix([[(i * 7 + j * 13) % 2_000 - 1_000 for j in range(8)] for i in range(128)])
    ys = IntTensor.vector([(i * 31) % 2_000 - 1_000 for i in range(128)])
    rows += chain.run(
        "AddData (128 points of 8 features)", [chain.sign(owner, lambda n: AddData(n, 1, big, ys, FEE_PRICE))]
    )
    steps = params.MAX_JOB_STEPS if max(epochs) >= 1_000 else max(epochs)
    rows += chain.run(
        f"Train ({steps} epochs of 128 points: {steps} steps)",
        [chain.sign(owner, lambda n: Train(n, 1, steps, FEE_PRICE))],
    )
    return rows


def _eth(wei: int) -> str:
    return f"{wei / ETH:.9f}".rstrip("0").rstrip(".")


def _train(nonce: int, model_id: int, epochs: int) -> Tx:
    return Train(nonce, model_id, epochs, FEE_PRICE)


def table(rows: list[Row]) -> str:
    """The rows as a markdown table, with the price they were paid at."""
    lines = [
        f"Fees at the default price, {FEES.price:,} wei a unit (units: 40 a byte, 1,300 a step, 1 a MAC)",
        "",
        "| tx | bytes | steps | job MACs | fee units | fee (L2 ETH) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.name} | {r.size:,} | {r.steps:,} | {r.macs:,} | {r.units:,} | {_eth(r.fee)} |" for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    """Print the fee table (`--quick`: the CI size)."""
    parser = argparse.ArgumentParser(prog="python -m bench.fees", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller test set and shorter Trains (CI)")
    args = parser.parse_args()
    started = time.monotonic()
    chain = Chain([keccak(b"bench.fees key" + bytes([i])) for i in range(4)])
    a, b = chain.keys[0], chain.keys[3]
    rows = chain.run("Transfer", [chain.sign(a, lambda n: Transfer(n, address_of(b), ETH, FEE_PRICE))])
    rows += chain.run("Withdraw", [chain.sign(a, lambda n: Withdraw(n, address_of(b), ETH, FEE_PRICE))])
    rows += competition(chain, 60 if args.quick else 360)
    rows += shared_model(chain, (1, 10) if args.quick else (1, 100, 1_000))
    print(table(rows))
    took = time.monotonic() - started
    print(f"\n({len(rows)} rows: each fee is the receipt's of a tx executed by apply_batch; {took:.0f} s)")


if __name__ == "__main__":
    main()
