"""The paper's Table I: its workload (nine points, `addData` nine times, 2,000 epochs of training)
purely on L1 through `OnChainRegression`, and as L2 txs through the rollup, both ways:

- alone: the same L2 txs sent with the SDK to a temporary `mlrollup up` stack (devnet, contracts,
  sequencer with its batcher), whose batches carry only them; their L1 gas is the receipts of the
  Rollup's `appendBatch` and `finalize` txs (as `mlrollup demo` counts them);
- shared: the same txs (signed for an in-process chain) inside full batches of 1,000 txs (200 with
  `--quick`) with other
  traffic (Transfers), executed by `apply_batch` and posted to the real Rollup; the workload pays
  its share of each batch by bytes.

The L2 workload is CreateModel, nine AddData of one point, Train(1) and Train(1,999): the weights
after the first epoch and after all 2,000 are checked on both paths against the paper's contract.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from hexbytes import HexBytes
from rich.console import Console

from bench.fees import FEE_PRICE
from bench.gas.floors import share_by_bytes
from bench.gas.l1 import InProcessL1, Keys, PostedBatch
from bench.onchain_twins import EPOCHS, PAPER_GAS, make_chain, regression_gas
from client.l1 import L1Account, deposit_and_wait
from client.sdk import Client
from mlrollup import up
from protocol.codec import decode_batch
from protocol.hashing import keccak
from protocol.paper import PAPER_X, PAPER_Y
from protocol.tensors import IntTensor
from protocol.txs import AddData, CreateModel, Train, Transfer

INITIAL = (10 * 10**7, 2 * 10**7)
LEARNING_RATE = 1000
EXPECTED = {1: (100262000, 3420000), EPOCHS: (709424000, -7180000)}
ROWS = ("addData", "train", "full run")
FILLER_SENDERS = 20
TRAINER_FUNDS = 10**17  # wei the stack's trainer deposits for its L2 fees (it pays about 0.003 ETH)


@dataclass
class RollupWay:
    """The rollup's L1 gas for each row, one way of counting."""

    add_data: float  # one AddData tx (the mean of the nine)
    train: float  # the Train(1) tx: one epoch
    full_run: float  # every tx of the workload
    batches: int
    batch_txs: list[int]
    weights_1: tuple[int, int]
    weights_full: tuple[int, int]

    def row(self, name: str) -> float:
        return {"addData": self.add_data, "train": self.train, "full run": self.full_run}[name]


@dataclass
class Table1:
    twin_add_data: float  # mean of the nine calls
    twin_add_data_first: int
    twin_train: int
    twin_full: int
    twin_epochs_measured: int
    twin_weights: tuple[int, int]
    alone: RollupWay
    shared: RollupWay
    shared_batches: list[PostedBatch]
    alone_on_stack: bool
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def full_measured(self) -> bool:
        return self.twin_epochs_measured == EPOCHS

    def twin(self, name: str) -> float:
        return {"addData": self.twin_add_data, "train": self.twin_train, "full run": self.twin_full}[name]

    @staticmethod
    def paper(name: str) -> int:
        return PAPER_GAS[name]

    def problems(self) -> list[str]:
        """The bit checks: every path ends with the paper's weights."""
        out = []
        twin_expected = EXPECTED.get(self.twin_epochs_measured)
        if twin_expected is not None and self.twin_weights != twin_expected:
            out.append(f"the twin's weights {self.twin_weights} after {self.twin_epochs_measured} epochs")
        for name, way in (("alone", self.alone), ("shared", self.shared)):
            if way.weights_1 != EXPECTED[1] or way.weights_full != EXPECTED[EPOCHS]:
                out.append(f"the rollup ({name}) ends with {way.weights_1} / {way.weights_full}")
        return out


def run(quick: bool, console: Console) -> Table1:
    """Every path of Table I; `quick` measures 3 twin epochs (the rest extrapolated, marked) and
    posts the workload alone on the in-process L1 instead of the stack (which takes 40 s to start,
    run and finalize: too long for CI)."""
    seconds: dict[str, float] = {}
    started = time.monotonic()
    w3, _tester = make_chain()
    twin = regression_gas(w3, 3 if quick else EPOCHS, full=not quick)
    seconds["twin"] = time.monotonic() - started
    console.print(f"  twin: full run {twin.full_run:,} gas ({seconds['twin']:.0f} s)")
    started = time.monotonic()
    alone = run_in_process(0)[0] if quick else run_on_stack(console)
    seconds["alone"] = time.monotonic() - started
    started = time.monotonic()
    shared, shared_batches = run_in_process(200 if quick else 1_000)
    seconds["shared"] = time.monotonic() - started
    return Table1(
        sum(twin.add_data) / len(twin.add_data),
        twin.add_data[0],
        twin.train,
        twin.full_run,
        twin.epochs_measured,
        twin.weights_after,
        alone,
        shared,
        shared_batches,
        not quick,
        seconds,
    )


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def run_on_stack(console: Console) -> RollupWay:
    """The workload through the SDK on a temporary `mlrollup up` stack, stopped at the end."""
    data_dir = Path(tempfile.mkdtemp(prefix="mlrollup-gas-"))
    host = "127.0.0.1"
    options = up.Options(
        data_dir,
        host,
        _free_port(host),
        _free_port(host),
        _free_port(host),
        challenge_window=10,
        batch_max_age_s=5.0,
        block_interval_s=1.0,
    )
    stack, _deployment, accounts = up.start(options, console)
    try:
        return _workload_on_stack(options, accounts[3].private_key)
    finally:
        stack.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _workload_on_stack(options: up.Options, l1_key: str) -> RollupWay:
    url, l1_url = f"http://{options.host}:{options.port}", f"http://{options.host}:{options.l1_port}"
    with Client(url, "0x" + secrets.token_hex(32)) as trainer:
        l1 = L1Account(l1_url, l1_key, trainer.domain())
        # the trainer's L2 fees (docs/spec.md section 6), deposited before the workload's first L1 block
        deposit_and_wait(trainer, l1, TRAINER_FUNDS)
        start_block = int(l1.w3.eth.block_number)
        created = trainer.create_model(1, LEARNING_RATE, list(INITIAL))
        model_id = trainer.wait_for_receipt(created.hash).created_id
        assert model_id is not None
        adds = [trainer.add_data(model_id, [[x]], [y]).hash for x, y in zip(PAPER_X, PAPER_Y, strict=True)]
        first = trainer.train(model_id, 1).hash
        trainer.wait_for_receipt(first)
        weights_1 = tuple(trainer.model(model_id).weights)
        rest = trainer.train(model_id, EPOCHS - 1).hash
        trainer.wait_for_receipt(rest)
        weights_full = tuple(trainer.model(model_id).weights)
        trainer.wait_for_final(rest, timeout=120)
    appended = [a for a in l1.rollup.batches_appended(start_block)]
    finalized = l1.rollup.batches_finalized(start_block)
    finalize_share: dict[int, float] = {}
    by_tx: dict[bytes, list[int]] = {}
    for f in finalized:
        by_tx.setdefault(f.tx_hash, []).append(f.index)
    for tx_hash, indexes in by_tx.items():
        used = int(l1.w3.eth.get_transaction_receipt(HexBytes(tx_hash))["gasUsed"])
        for i in indexes:
            finalize_share[i] = used / len(indexes)
    batches: list[tuple[float, list[bytes]]] = []
    for a in appended:
        gas: float = int(l1.w3.eth.get_transaction_receipt(HexBytes(a.tx_hash))["gasUsed"])
        gas += finalize_share.get(a.index, 0.0)
        _header, txs = decode_batch(l1.rollup.batch_data(a.tx_hash))
        if txs:  # not the batch of the trainer's fee deposit alone
            batches.append((gas, txs))
    wanted = {"create": [created.hash], "add": adds, "train1": [first], "train": [rest]}
    return _way(batches, wanted, (weights_1[0], weights_1[1]), (weights_full[0], weights_full[1]))


def _way(
    batches: list[tuple[float, list[bytes]]],
    wanted: dict[str, list[str]],
    weights_1: tuple[int, int],
    weights_full: tuple[int, int],
) -> RollupWay:
    """Each workload tx's share by bytes of its batch's gas; the full run is every workload tx's."""
    share: dict[str, float] = {}
    for gas, txs in batches:
        for tx, part in zip(txs, share_by_bytes(int(gas), [3 + len(t) for t in txs]), strict=True):
            share["0x" + keccak(tx).hex()] = part

    def get(h: str) -> float:
        if h not in share:
            raise AssertionError(f"the workload's tx {h} is in no posted batch")
        return share[h]

    everything = [h for hashes in wanted.values() for h in hashes]
    adds = [get(h) for h in wanted["add"]]
    return RollupWay(
        sum(adds) / len(adds),
        get(wanted["train1"][0]),
        sum(get(h) for h in everything),
        len(batches),
        [len(t) for _, t in batches],
        weights_1,
        weights_full,
    )


def run_in_process(fill: int) -> tuple[RollupWay, list[PostedBatch]]:
    """The same txs on the in-process L1 in two batches (the first epoch's, then the rest, as the
    stack cuts them): with `fill`, each filled with Transfers up to `fill` txs; else alone."""
    trainer, filler = Keys(b"gas bench trainer"), Keys(b"gas bench filler")
    # every sender pays L2 fees (docs/spec.md section 6): the trainer is funded too
    funded = {filler.address(i): 10**24 for i in range(FILLER_SENDERS)} | {trainer.address(0): 10**24}
    chain = InProcessL1(funded)
    d = chain.domain

    def fillers(n: int) -> list[bytes]:
        out = []
        for i in range(n):
            s = i % FILLER_SENDERS
            to = filler.address((s + 1) % FILLER_SENDERS)
            out.append(filler.sign(d, s, Transfer(0, to, 10**15 + i, max_fee_price=FEE_PRICE)))
        return out

    create = trainer.sign(
        d, 0, CreateModel(0, 1, LEARNING_RATE, IntTensor.vector(list(INITIAL)), max_fee_price=FEE_PRICE)
    )
    adds = [
        trainer.sign(
            d, 0, AddData(0, 0, IntTensor.matrix([[x]]), IntTensor.vector([y]), max_fee_price=FEE_PRICE)
        )
        for x, y in zip(PAPER_X, PAPER_Y, strict=True)
    ]
    train1 = trainer.sign(d, 0, Train(0, 0, 1, max_fee_price=FEE_PRICE))
    train = trainer.sign(d, 0, Train(0, 0, EPOCHS - 1, max_fee_price=FEE_PRICE))
    first_txs = [create, *adds, train1]
    posted: list[PostedBatch] = chain.post(first_txs + fillers(fill - len(first_txs)))
    weights_1 = _weights(chain)
    posted += chain.post([train, *fillers(fill - 1)])
    signed = {"create": [create], "add": adds, "train1": [train1], "train": [train]}
    wanted = {k: ["0x" + keccak(t).hex() for t in v] for k, v in signed.items()}
    way = _way([(b.gas, list(b.txs)) for b in posted], wanted, weights_1, _weights(chain))
    return way, posted


def _weights(chain: InProcessL1) -> tuple[int, int]:
    model = chain.state.model(0)
    assert model is not None
    return model.weights[0], model.weights[1]
