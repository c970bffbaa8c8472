"""Gas of the L1 one-step prover at the protocol's largest step sizes: `python -m bench.prover_gas`.

Every step kind at its largest size, on a state of 2^17 filler leaves (so each SMT proof carries
about 17 siblings, as in a state of that many accounts): the largest scoring chunks (MAX_STEP_MACS
multiply-accumulates with the biggest weights or test chunk), a TRAIN chunk of SHARED_CHUNK_POINTS
points of SHARED_MAX_FEATURES features, the largest RevealTestSet runs (MAX_REVEAL_CHUNKS chunk leaves
written, MAX_REVEAL_VALUES values, each run range-proven inside a larger test set; the 4,096 x 64
test set of issue 10), AddData of MAX_ADD_POINTS points, the
largest RevealModel (MAX_PARAMS weights), and the small steps. Each witness is checked against Python
first. "execution" is what `proveStep` burns (measured through `GasMeterHarness`, the CALL included);
"tx" is what a transaction carrying the witness would be charged on Prague: the larger of 21,000 +
16 a non-zero / 4 a zero calldata byte + execution, and EIP-7623's floor of 21,000 + 40 a non-zero /
10 a zero byte. The budget is 8M gas for "tx".
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial

from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from bench.fees import FEE_PRICE, FEES
from l1_contracts.artifacts import load_artifact
from l1_contracts.bindings import Bridge, UnlockedSender, transact
from l1_contracts.bindings.prover import OneStepProver, StepContext, deploy_prover, prove_step_gas
from protocol import params
from protocol.hashing import ZERO32, keccak
from protocol.models import ModelSpec, validate_spec
from protocol.signing import Domain, address_of, sign_tx
from protocol.state import State
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_txs, root_of_test_set
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.txrules import model_commitment
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    RevealTestSet,
    Train,
    Transfer,
    Tx,
    Withdraw,
)
from protocol.witness import build_witness, encode_witness, reexecute

DOMAIN = Domain(chain_id=31337, verifying_contract=bytes.fromhex("5fbdb2315678afecb367f032d93f642f64180aa3"))
BUDGET = 8_000_000
ETH = 10**18
S = params.FIXED_SCALE
B = params.ELEMENT_MAX
FILLER_LEAVES = 1 << 17


@dataclass(frozen=True)
class Row:
    """One measured step."""

    case: str
    kind: str
    witness_bytes: int
    execution: int
    calldata: int  # 16 a non-zero, 4 a zero byte of the proveStep call data
    floor: int  # EIP-7623: 40 a non-zero, 10 a zero byte

    @property
    def tx(self) -> int:
        return 21_000 + max(self.calldata + self.execution, self.floor)


class Keys:
    """Signers with nonces tracked locally."""

    def __init__(self) -> None:
        self.keys = [keccak(b"bench prover" + bytes([i])) for i in range(4)]
        self.nonces = [0] * 4

    def address(self, i: int) -> bytes:
        return address_of(self.keys[i])

    def sign(self, i: int, make: Callable[[int], Tx]) -> bytes:
        raw = sign_tx(DOMAIN, make(self.nonces[i]), self.keys[i]).encoded
        self.nonces[i] += 1
        return raw


def big_state(keys: Keys) -> State:
    """2^17 filler leaves and the signers' accounts."""
    from protocol.keys import account_key
    from protocol.records import Account

    leaves = [
        (keccak(b"filler" + i.to_bytes(4, "big")), keccak(i.to_bytes(4, "big"))[:24])
        for i in range(FILLER_LEAVES)
    ]
    leaves += [(account_key(keys.address(i)), Account(1_000 * ETH).encode()) for i in range(4)]
    return State.from_leaves(leaves)


def run(state: State, txs: list[bytes], now: int) -> BatchResult:
    result = apply_batch(state, [], txs, BatchContext(DOMAIN, FEES, now))
    for r in result.receipts:
        if not r.success:
            raise SystemExit(f"setup tx failed: {r.reason.name} {r.detail}")
    return result


def _features(spec: ModelSpec, n: int, magnitude: int) -> tuple[IntTensor, IntTensor]:
    rows = [
        [((i * 31 + j * 17) % 2001 - 1000) * magnitude // 1000 for j in range(spec.inputs)] for i in range(n)
    ]
    if spec.arch == 1:
        labels = [((i * 13) % 2001 - 1000) * magnitude // 1000 for i in range(n)]
    elif spec.arch == 2:
        labels = [i % 2 for i in range(n)]
    else:
        labels = [i % spec.outputs for i in range(n)]
    return IntTensor.matrix(rows, spec.inputs), IntTensor.vector(labels)


def _at_nonce(tx: Tx, nonce: int) -> Tx:
    return replace(tx, nonce=nonce)


def task_cases(
    state: State, keys: Keys, spec: ModelSpec, n: int, magnitude: int
) -> tuple[BatchResult, BatchResult]:
    """A task with `n` test samples and one committed model: (the batch of its RevealTestSet txs, one
    step each, and the RevealModel batch)."""
    features, labels = _features(spec, n, magnitude)
    salt = keccak(b"salt")
    commit = commitment_to_test_set(root_of_test_set(spec, features, labels), n, salt)
    weights = IntTensor.vector([((i * 7919) % (2 * S)) - S for i in range(spec.param_count)])
    tid = state.meta().next_task_id
    wc = model_commitment(tid, keys.address(1), weights_hash(weights.values), salt)
    setup = run(
        state,
        [
            keys.sign(
                0,
                lambda k: CreateTask(
                    k,
                    spec.arch,
                    spec.inputs,
                    spec.hidden,
                    spec.outputs,
                    ETH,
                    100,
                    200,
                    commit,
                    salt,
                    max_fee_price=FEE_PRICE,
                ),
            ),
            keys.sign(1, lambda k: CommitModel(k, tid, wc, max_fee_price=FEE_PRICE)),
        ],
        50,
    )
    runs = reveal_txs(spec, tid, salt, features, labels, max_fee_price=FEE_PRICE)
    reveal_test = run(setup.post_state, [keys.sign(0, partial(_at_nonce, r)) for r in runs], 150)
    reveal_model = run(
        reveal_test.post_state,
        [keys.sign(1, lambda k: RevealModel(k, tid, salt, weights, max_fee_price=FEE_PRICE))],
        150,
    )
    return reveal_test, reveal_model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--quick", action="store_true", help="only the small steps (a smoke test)")
    parser.add_argument("--only", default="", help="measure only the steps whose name contains this")
    args = parser.parse_args(argv)

    t0 = time.time()
    genesis = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": 1_000_000_000})
    tester = EthereumTester(PyEVMBackend(genesis_parameters=genesis))
    w3 = Web3(EthereumTesterProvider(tester))
    owner = UnlockedSender(w3.eth.accounts[0])
    art = load_artifact("Bridge")
    bridge = Bridge(
        w3,
        str(
            transact(w3, owner, to=None, data=bytes.fromhex(art.bytecode[2:]), gas=2_000_000)[
                "contractAddress"
            ]
        ),
    )
    prover = OneStepProver(w3, deploy_prover(w3, owner, bridge.address))
    art = load_artifact("GasMeterHarness")
    meter_address = str(
        transact(w3, owner, to=None, data=bytes.fromhex(art.bytecode[2:]), gas=1_000_000)["contractAddress"]
    )
    meter = w3.eth.contract(address=Web3.to_checksum_address(meter_address), abi=art.abi)

    keys = Keys()
    state = big_state(keys)
    print(f"state of {FILLER_LEAVES:,} filler leaves built in {time.time() - t0:.1f} s")
    rows: list[Row] = []

    def measure(case: str, result: BatchResult, step: int) -> None:
        if args.only not in case:
            return
        witness = build_witness(result, step)
        expected = reexecute(witness, DOMAIN, FEES).step_hash
        raw = encode_witness(witness)
        ctx = StepContext(
            DOMAIN.separator,
            witness.header.data_hash,
            0,
            witness.deposit_count,
            bridge.address,
            FEES.price,
            FEES.recipient,
        )
        start = time.time()
        pre, post = prover.prove_step(ctx, raw, gas=60_000_000)
        if post != expected or pre != witness.pre_step_hash:
            raise SystemExit(f"{case}: Solidity and Python disagree")
        data = prover.prove_step_calldata(ctx, raw)
        used = int(meter.functions.measure(prover.address, data).call({"gas": 60_000_000}))
        if used > prove_step_gas(raw):
            raise SystemExit(f"{case}: {used:,} gas exceeds prove_step_gas's limit {prove_step_gas(raw):,}")
        zeros = data.count(0)
        nonzero = len(data) - zeros
        kind = result.steps[step].kind.name
        row = Row(case, kind, len(raw), used, 16 * nonzero + 4 * zeros, 40 * nonzero + 10 * zeros)
        rows.append(row)
        flag = "" if row.tx <= BUDGET else "  OVER BUDGET"
        print(
            f"{case:<58} {kind:<11} witness {len(raw):>8,} B  execution {used:>10,}  tx {row.tx:>10,}"
            f"  ({time.time() - start:.0f} s){flag}",
            flush=True,
        )

    # --- small steps -----------------------------------------------------------------------------
    small = run(
        state,
        [
            keys.sign(0, lambda k: Transfer(k, keys.address(2), ETH, max_fee_price=FEE_PRICE)),
            keys.sign(0, lambda k: Withdraw(k, keys.address(2), ETH, max_fee_price=FEE_PRICE)),
            keys.sign(
                3, lambda k: CreateModel(k, 8, 1000, IntTensor.vector([1] * 9), max_fee_price=FEE_PRICE)
            ),
        ],
        10,
    )
    for i, name in enumerate(("Transfer", "Withdraw", "CreateModel (8 features)")):
        measure(name, small, i)
    deposit_state = state
    from protocol.deposits import Deposit

    dep_result = apply_batch(
        deposit_state, [Deposit(0, keys.address(2), ETH)], [], BatchContext(DOMAIN, FEES, 10)
    )
    bridge.deposit(owner, keys.address(2), ETH)
    measure("deposit", dep_result, 0)
    state = small.post_state
    if args.quick:
        _report(rows, args.json)
        return

    # --- shared model: AddData of MAX_ADD_POINTS, the TRAIN chunk of SHARED_CHUNK_POINTS points ------
    f = params.SHARED_MAX_FEATURES
    xmax = params.SHARED_X_MAX
    xs = IntTensor.matrix(
        [
            [((i * 7 + j * 3) % 2001 - 1000) * xmax // 1000 for j in range(f)]
            for i in range(params.MAX_ADD_POINTS)
        ]
    )
    ys = IntTensor.vector([((i * 11) % 2001 - 1000) * xmax // 1000 for i in range(params.MAX_ADD_POINTS)])
    add = run(state, [keys.sign(3, lambda k: AddData(k, 0, xs, ys, max_fee_price=FEE_PRICE))], 10)
    measure(f"AddData ({params.MAX_ADD_POINTS} points x {f} features)", add, 0)
    train = run(add.post_state, [keys.sign(3, lambda k: Train(k, 0, 1, max_fee_price=FEE_PRICE))], 10)
    measure("Train tx", train, 0)
    measure(f"TRAIN chunk ({params.SHARED_CHUNK_POINTS} points x {f} features)", train, 1)
    state = train.post_state

    # --- competitions --------------------------------------------------------------------------------
    cases = [
        # (name, spec, samples, magnitude)
        (
            "LINREG d=255 (64 samples a chunk, 16,320 MACs)",
            validate_spec(1, 255, 0, 0),
            64,
            params.ELEMENT_MAX,
        ),
        (
            "MLP 4000-4-2 (1 sample a chunk, 16,008 MACs, 16,014 weights)",
            validate_spec(3, 4000, 4, 2),
            1,
            params.ELEMENT_MAX,
        ),
        (
            "MLP 64-120-4 (2 samples a chunk, 16,320 MACs)",
            validate_spec(3, 64, 120, 4),
            2,
            params.ELEMENT_MAX,
        ),
    ]
    for name, spec, n, magnitude in cases:
        keys.nonces = [state.account(keys.address(i)).nonce for i in range(4)]
        reveal_test, reveal_model = task_cases(state, keys, spec, n, magnitude)
        measure(f"RevealModel {name}", reveal_model, 0)
        measure(f"SCORE chunk {name}", reveal_model, 1)

    # the largest RevealTestSet steps: a run of MAX_REVEAL_CHUNKS chunk leaves or MAX_REVEAL_VALUES
    # values, inside a larger test set (a range proof on both sides), and the 4,096 x 64
    big_sets = [
        # (name, (arch, d, h, c), samples, magnitude, runs measured)
        (
            "LINREG d=64, 4,096 samples, 22 runs of 3 chunks of 64 (i32 values)",
            (1, 64, 0, 0),
            4096,
            B,
            (0, 10, 21),
        ),
        ("LINREG d=3, 12,288 samples, runs of 64 chunks of 64 (i32 values)", (1, 3, 0, 0), 12_288, B, (1,)),
        ("LINREG d=3, 12,288 samples, runs of 64 chunks of 64 (i8 values)", (1, 3, 0, 0), 12_288, 100, (1,)),
        ("MLP 256-32-2, 192 samples, runs of 64 chunks of 1, 16,448 values", (3, 256, 32, 2), 192, B, (1,)),
        ("LINREG d=255, 128 samples, runs of 1 chunk of 64 (i32 values)", (1, 255, 0, 0), 128, B, (1,)),
        ("MLP 64-16-10 (digits), 360 samples, 2 runs of chunks of 13", (3, 64, 16, 10), 360, 16 * S, (0, 1)),
    ]
    for name, (arch, d, h, c), n, magnitude, measured in big_sets:
        spec = validate_spec(arch, d, h, c)
        keys.nonces = [state.account(keys.address(i)).nonce for i in range(4)]
        reveal_test, _ = task_cases(state, keys, spec, n, magnitude)
        for i in measured:
            measure(f"RevealTestSet {name}: run {i + 1} of {len(reveal_test.steps)}", reveal_test, i)
    # the costliest RevealTestSet that fails: MAX_TX_BYTES of i32 values decoded, then refused by the caps
    keys.nonces = [state.account(keys.address(i)).nonce for i in range(4)]
    spec = validate_spec(1, 3, 0, 0)
    n = (params.MAX_TX_BYTES - 300) // 16
    features, labels = _features(spec, n, params.ELEMENT_MAX)
    refused = apply_batch(
        state,
        [],
        [
            keys.sign(
                0,
                lambda k: RevealTestSet(
                    k, 0, keccak(b"x"), n, ZERO32, 0, features, labels, (), max_fee_price=FEE_PRICE
                ),
            )
        ],
        BatchContext(DOMAIN, FEES, 150),
    )
    measure(f"RevealTestSet refused: {n:,} samples, MAX_TX_BYTES of i32 values", refused, 0)

    # FinalizeTask paying the best
    keys.nonces = [state.account(keys.address(i)).nonce for i in range(4)]
    _, scored = task_cases(state, keys, validate_spec(1, 2, 0, 0), 4, S)
    final = run(
        scored.post_state,
        [keys.sign(2, lambda k: FinalizeTask(k, state.meta().next_task_id, max_fee_price=FEE_PRICE))],
        300,
    )
    measure("FinalizeTask", final, 0)
    print(f"total {time.time() - t0:.0f} s")
    _report(rows, args.json)


def _report(rows: list[Row], as_json: bool) -> None:
    if as_json:
        print(json.dumps([{**asdict(r), "tx": r.tx} for r in rows], indent=1))
        return
    print("\n| step | kind | witness bytes | execution | calldata (16/4) | tx (Prague) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r.case} | {r.kind} | {r.witness_bytes:,} | {r.execution:,} | {r.calldata:,} | {r.tx:,} |")
    worst = max(rows, key=lambda r: r.tx)
    verdict = "within" if worst.tx <= BUDGET else "OVER"
    print(f"\nlargest: {worst.case}, {worst.tx:,} gas ({verdict} the {BUDGET:,} budget)")


if __name__ == "__main__":
    main()
