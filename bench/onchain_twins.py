"""Gas of the pure on-chain twins: the paper's experiment and a competition round entirely on L1.

Measured on eth-tester/py-evm (Prague) with the committed artifacts. The regression twin runs the
paper's nine points (Table I: addData 103,299 gas, train 138,433 gas, the full run of 2,000 train
calls 276,305,223 gas); by default a few train() calls are measured and the 2,000-call run is
extrapolated from them (every epoch over the same points costs the same gas: it is checked), and
`--full` runs all 2,000. The competition rounds report each transaction of one miner's round for a
LINREG(d=1) task with 50 test samples and a 64-32-10 MLP with 6 and 12 samples, whose difference
gives the scoring cost per sample.

Run: `python -m bench.onchain_twins [--full] [--json PATH]` (`--quick`: one train() call measured).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_tester import EthereumTester, PyEVMBackend
from eth_typing import ChecksumAddress
from web3 import EthereumTesterProvider, Web3

from l1_contracts.twins import CompetitionTwin, RegressionTwin
from protocol import params
from protocol.hashing import keccak
from protocol.models import Arch, validate_spec
from protocol.paper import PAPER_X, PAPER_Y
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, root_of_test_set
from protocol.txrules import model_commitment

PAPER_GAS = {"addData": 103_299, "train": 138_433, "full run": 276_305_223}
EPOCHS = 2_000
S = params.FIXED_SCALE


def make_chain() -> tuple[Web3, EthereumTester]:
    genesis = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": 1_000_000_000})
    tester = EthereumTester(PyEVMBackend(genesis_parameters=genesis))
    return Web3(EthereumTesterProvider(tester)), tester


@dataclass(frozen=True)
class RegressionGas:
    deploy: int
    add_data: list[int]  # each of the nine calls
    train: int  # one epoch over the nine points
    epochs_measured: int
    full_run: int  # addData × 9 + train × 2,000
    full_run_measured: bool
    weights_after: tuple[int, int]


def regression_gas(w3: Web3, measured: int, full: bool) -> RegressionGas:
    twin, deployed = RegressionTwin.deploy(w3, 10 * 10**7, 2 * 10**7, 1000)
    adds = [twin.add_data(x, y).gas_used for x, y in zip(PAPER_X, PAPER_Y, strict=True)]
    epochs = EPOCHS if full else measured
    trains = [twin.train().gas_used for _ in range(epochs)]
    if not full:
        assert len(set(trains)) == 1, f"train gas varies between epochs: {sorted(set(trains))}"
    total = sum(adds) + (sum(trains) if full else trains[0] * EPOCHS)
    return RegressionGas(deployed.gas_used, adds, trains[0], epochs, total, full, twin.weights())


@dataclass(frozen=True)
class RoundGas:
    task: str
    encoding: str  # "abi" (int32[] arrays) or "packed" (i32 bytes)
    n_test: int
    create_task: int
    commit: int
    reveal_test_set: int
    reveal_model: int  # scoring the whole test set
    finalize: int
    score: int

    @property
    def total(self) -> int:
        return self.create_task + self.commit + self.reveal_test_set + self.reveal_model + self.finalize


def round_gas(
    w3: Web3, tester: EthereumTester, dims: tuple[int, int, int, int], n: int, seed: int, packed: bool
) -> RoundGas:
    """One miner's competition round on a fresh OnChainCompetition, with random nonzero data; the
    test set and weights as ABI int32[] arrays or, with `packed`, as packed i32 bytes."""
    rng = random.Random(seed)
    spec = validate_spec(*dims)
    weights = [rng.randint(-S, S) for _ in range(spec.param_count)]
    features = [[rng.randint(1, S) for _ in range(spec.inputs)] for _ in range(n)]
    if spec.arch == Arch.MLP:
        labels = [rng.randrange(spec.outputs) for _ in range(n)]
    else:
        labels = [rng.randint(-S, S) for _ in range(n)]
    salt, msalt = keccak(b"test"), keccak(b"miner")
    root = root_of_test_set(spec, IntTensor.matrix(features), IntTensor.vector(labels))
    twin, _ = CompetitionTwin.deploy(w3)
    accounts: list[ChecksumAddress] = list(w3.eth.accounts)
    submitter, miner = accounts[0], accounts[1]
    now = int(w3.eth.get_block("pending")["timestamp"])
    task_id, created = twin.create_task(
        *dims,
        now + 1_000,
        now + 2_000,
        commitment_to_test_set(root, n, salt),
        keccak(b"train"),
        reward=10**18,
        sender=submitter,
    )
    commitment = model_commitment(task_id, bytes.fromhex(miner[2:]), weights_hash(weights), msalt)
    committed = twin.commit(task_id, commitment, sender=miner)
    tester.time_travel(now + 1_000)
    revealed = twin.reveal_test_set(task_id, salt, features, labels, packed=packed, sender=submitter)
    scored = twin.reveal_model(task_id, msalt, weights, packed=packed, sender=miner)
    tester.time_travel(now + 2_000)
    finalized = twin.finalize(task_id, sender=accounts[2])
    score = twin.score_of(task_id, miner)
    assert score is not None
    name = f"{Arch(dims[0]).name}({'-'.join(str(v) for v in dims[1:] if v)})"
    return RoundGas(
        name,
        "packed" if packed else "abi",
        n,
        created.gas_used,
        committed.gas_used,
        revealed.gas_used,
        scored.gas_used,
        finalized.gas_used,
        score,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="run all 2,000 train() calls (minutes on py-evm)")
    parser.add_argument("--epochs", type=int, default=5, help="train() calls measured without --full")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--quick", action="store_true", help="one train() call measured (a smoke run, seconds)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.full, args.epochs = False, 1
    w3, tester = make_chain()

    start = time.perf_counter()
    reg = regression_gas(w3, args.epochs, args.full)
    seconds = time.perf_counter() - start
    how = "measured" if reg.full_run_measured else f"extrapolated from {reg.epochs_measured} measured epochs"
    print("OnChainRegression, the paper's nine points (gas; the paper's contract in brackets)")
    print(f"  deploy             {reg.deploy:>13,}")
    first = f"(first call {reg.add_data[0]:,})"
    print(f"  addData            {max(reg.add_data[1:]):>13,}  {first} [{PAPER_GAS['addData']:,}]")
    print(f"  train, 9 points    {reg.train:>13,}  [{PAPER_GAS['train']:,}]")
    print(f"  2,000-epoch run    {reg.full_run:>13,}  ({how}) [{PAPER_GAS['full run']:,}]")
    print(f"  ({seconds:.1f} s on py-evm; weights after {reg.epochs_measured} epochs: {reg.weights_after})")

    rounds = [
        round_gas(w3, tester, dims, n, seed, packed)
        for dims, n, seed in (
            ((Arch.LINREG, 1, 0, 0), 50, 1),
            ((Arch.MLP, 64, 32, 10), 6, 2),
            ((Arch.MLP, 64, 32, 10), 12, 3),
        )
        for packed in (False, True)
    ]
    print("\nOnChainCompetition, one miner's round (gas)")
    header = (
        "task",
        "encoding",
        "n",
        "createTask",
        "commit",
        "revealTestSet",
        "revealModel",
        "finalize",
        "total",
    )
    print("  " + "  ".join(f"{h:>13}" for h in header))
    for r in rounds:
        row = (r.task, r.encoding, r.n_test, r.create_task, r.commit, r.reveal_test_set, r.reveal_model)
        cells = (*row, r.finalize, r.total)
        print("  " + "  ".join(f"{v:>13,}" if isinstance(v, int) else f"{v:>13}" for v in cells))
    per_sample: dict[str, dict[str, float]] = {}
    mlp = validate_spec(Arch.MLP, 64, 32, 10)
    macs = mlp.macs_per_sample
    for k, encoding in enumerate(("abi", "packed")):
        mlp6, mlp12 = rounds[2 + k], rounds[4 + k]
        dn = mlp12.n_test - mlp6.n_test
        score = (mlp12.reveal_model - mlp6.reveal_model) / dn
        store = (mlp12.reveal_test_set - mlp6.reveal_test_set) / dn
        fixed = mlp6.reveal_model - mlp6.n_test * score
        per_sample[encoding] = {"score": score, "store": store, "reveal_fixed": fixed}
        print(
            f"\n  MLP 64-32-10 ({encoding}): scoring {score:,.0f} gas a test sample "
            f"({score / macs:.1f} gas a multiply-accumulate), revealing {fixed:,.0f} gas for the "
            f"{mlp.param_count:,} weights; storing {store:,.0f} gas a test sample"
        )
    if args.json:
        figures = {
            "regression": asdict(reg),
            "rounds": [asdict(r) | {"total": r.total} for r in rounds],
            "mlp_per_sample": per_sample,
        }
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
