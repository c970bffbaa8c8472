"""Random steps of every kind for the prover cross-checks (hypothesis strategies over protocol/).

A `World` is a state built once with Python alone: funded wallets (one poor, one near the uint128
ceiling), tasks of each architecture in each phase, shared models with data. Strategies draw one tx of
a given type against it with random fields (valid or not: unknown ids, wrong phases, hash mismatches,
invalid params, over-spending), random signature faults (wrong nonce, high s, r = 0, another domain)
and a random batch time; `score_case` and `train_case` build a fresh task or model with extreme
fixed-point values and yield its job steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from hypothesis import strategies as st

from protocol import params
from protocol.codec import encode_tx
from protocol.fees import FeeSchedule
from protocol.hashing import keccak
from protocol.models import Arch, ModelSpec, validate_spec
from protocol.signing import Domain, sign_tx
from protocol.state import State
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_run, reveal_txs, root_of_test_set
from protocol.transition import BatchContext, BatchResult, apply_batch
from protocol.txrules import model_commitment
from protocol.txs import (
    AddData,
    CommitModel,
    CreateModel,
    CreateTask,
    FinalizeTask,
    RevealModel,
    SignedTx,
    Train,
    Transfer,
    Tx,
    Withdraw,
)
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT, FEES
from tests.support.wallets import Wallet, at_nonce

S = params.FIXED_SCALE
B = params.ELEMENT_MAX
ETH = 10**18
OTHER_DOMAIN = Domain(chain_id=1, verifying_contract=bytes(19) + b"\x01")

# batch times: the world's tasks have deadlines at these points, so each phase is drawn
TIMES = (500, 1_000, 1_999, 2_000, 2_500, 3_000, 5_000)


@dataclass
class TaskInfo:
    """A task of the world and what its submitter and miners know."""

    task_id: int
    spec: ModelSpec
    submitter: int
    features: IntTensor
    labels: IntTensor
    test_salt: bytes
    weights: dict[int, IntTensor] = field(default_factory=dict)  # per committed miner wallet
    model_salt: bytes = keccak(b"model salt")


@dataclass
class World:
    """A state with wallets, tasks in every phase and shared models, built with Python only."""

    wallets: list[Wallet]
    state: State
    tasks: list[TaskInfo]
    models: list[int]  # ids of shared models
    model_features: dict[int, int]


def _test_set(spec: ModelSpec, n: int, seed: int) -> tuple[IntTensor, IntTensor]:
    rows = [[((i * 7 + j * 13 + seed) % 11 - 5) * S // 3 for j in range(spec.inputs)] for i in range(n)]
    if spec.arch == Arch.LINREG:
        labels = [((i * 5 + seed) % 9 - 4) * S for i in range(n)]
    elif spec.arch == Arch.LOGREG:
        labels = [(i + seed) % 2 for i in range(n)]
    else:
        labels = [(i + seed) % spec.outputs for i in range(n)]
    return IntTensor.matrix(rows, spec.inputs), IntTensor.vector(labels)


def _weights(spec: ModelSpec, seed: int) -> IntTensor:
    return IntTensor.vector([((i * 7919 + seed) % (2 * S)) - S for i in range(spec.param_count)])


def build_world() -> World:
    """Tasks: 0 LINREG, 1 MLP and 5 LINREG (8 inputs) in their commit phase (deadlines 2000/3000),
    2 LOGREG and 3 MLP with the test set revealed and commitments (one scored on task 3), 4 finalized;
    models 0 (1 feature, 130 points: two chunks) and 1 (3 features, no data)."""
    wallets = [Wallet.from_seed(i) for i in range(6)]
    balances = {w.address: 100 * ETH for w in wallets}
    balances[wallets[4].address] = 5  # poor
    balances[wallets[5].address] = params.MAX_AMOUNT - 10  # credit saturates
    state = State.with_balances(balances)
    specs = [
        validate_spec(Arch.LINREG, 2, 0, 0),
        validate_spec(Arch.MLP, 3, 2, 3),
        validate_spec(Arch.LOGREG, 3, 0, 0),
        validate_spec(Arch.MLP, 2, 3, 2),
        validate_spec(Arch.LINREG, 1, 0, 0),
        validate_spec(Arch.LINREG, 8, 0, 0),  # wide rows: MAX_REVEAL_VALUES binds before MAX_REVEAL_CHUNKS
        validate_spec(Arch.MLP, 2, 2048, 2),  # 8,192 MACs a sample: chunks of 2, so 11 samples in 6 chunks
    ]
    tasks: list[TaskInfo] = []
    txs: list[bytes] = []
    for i, spec in enumerate(specs):
        features, labels = _test_set(spec, 5 + i, i)  # task 6: chunk 0 revealed, chunks 1-5 to come
        salt = keccak(b"test salt" + bytes([i]))
        commit = commitment_to_test_set(root_of_test_set(spec, features, labels), 5 + i, salt)

        def create(n: int, s: ModelSpec = spec, c: bytes = commit) -> Tx:
            return CreateTask(
                n,
                s.arch,
                s.inputs,
                s.hidden,
                s.outputs,
                ETH,
                2_000,
                3_000,
                c,
                keccak(b"data"),
                max_fee_price=FEE_PRICE,
            )

        txs.append(wallets[0].sign(create))
        tasks.append(TaskInfo(i, spec, 0, features, labels, salt))
    for task in tasks:  # miners 1 and 2 commit on every task
        for miner in (1, 2):
            w = _weights(task.spec, miner + task.task_id)
            task.weights[miner] = w
            digest = weights_hash(w.values)
            commitment = model_commitment(task.task_id, wallets[miner].address, digest, task.model_salt)
            txs.append(wallets[miner].sign(partial(_commit, task_id=task.task_id, commitment=commitment)))
    txs.append(
        wallets[3].sign(
            lambda n: CreateModel(
                n, 1, 1000, IntTensor.vector([10 * 10**7, 2 * 10**7]), max_fee_price=FEE_PRICE
            )
        )
    )
    txs.append(
        wallets[3].sign(
            lambda n: CreateModel(n, 3, 70, IntTensor.vector([1, -2, 3, -4]), max_fee_price=FEE_PRICE)
        )
    )
    for lo in (0, 65):
        xs = IntTensor.matrix([[(i * 37) % 200 - 100] for i in range(lo, lo + 65)])
        ys = IntTensor.vector([(i * 53) % 300 - 150 for i in range(lo, lo + 65)])
        txs.append(wallets[3].sign(partial(_add, model_id=0, xs=xs, ys=ys)))
    state = apply_batch(state, [], txs, BatchContext(DOMAIN, FEES, 1_000)).post_state
    txs = []
    for task in tasks[2:5]:  # reveal the test sets of tasks 2, 3, 4, and the first chunk of task 6
        txs.append(wallets[0].sign(partial(_reveal_test, task=task, first=0, count=None)))
    txs.append(wallets[0].sign(partial(_reveal_test, task=tasks[6], first=0, count=1)))
    state = _run(state, txs, 2_500)
    txs = [
        wallets[1].sign(
            lambda n: RevealModel(n, 3, tasks[3].model_salt, tasks[3].weights[1], max_fee_price=FEE_PRICE)
        )
    ]
    state = _run(state, txs, 2_500)
    state = _run(state, [wallets[2].sign(lambda n: FinalizeTask(n, 4, max_fee_price=FEE_PRICE))], 3_000)
    return World(wallets, state, tasks, [0, 1], {0: 1, 1: 3})


def _commit(n: int, task_id: int, commitment: bytes) -> Tx:
    return CommitModel(n, task_id, commitment, max_fee_price=FEE_PRICE)


def _add(n: int, model_id: int, xs: IntTensor, ys: IntTensor) -> Tx:
    return AddData(n, model_id, xs, ys, max_fee_price=FEE_PRICE)


def _reveal_test(n: int, task: TaskInfo, first: int, count: int | None) -> Tx:
    chunks = -(-task.labels.shape[0] // task.spec.chunk_size)
    args = (task.spec, task.task_id, task.test_salt, task.features, task.labels)
    return reveal_run(*args, first, chunks - first if count is None else count, n, max_fee_price=FEE_PRICE)


def _run(state: State, txs: list[bytes], now: int) -> State:
    result = apply_batch(state, [], txs, BatchContext(DOMAIN, FEES, now))
    assert all(r.success for r in result.receipts), [(r.reason, r.detail) for r in result.receipts]
    return result.post_state


# --- strategies ---------------------------------------------------------------------------------------


@st.composite
def fee_schedules(draw: st.DrawFn, world: World) -> FeeSchedule:
    """A deployment's fees for a tx drawn against `world` (whose txs sign FEE_PRICE): mostly the
    tests' own; else free, one wei, a price above what the txs sign (FEE_PRICE_TOO_LOW), one that
    drains most balances, or the largest (FEE_UNPAID); the recipient a fresh address or a wallet,
    possibly the sender."""
    price = draw(st.sampled_from([FEE_PRICE] * 4 + [0, 1, FEE_PRICE + 1, 10**14, params.MAX_FEE_PRICE]))
    recipient = draw(st.sampled_from([FEE_RECIPIENT, FEE_RECIPIENT, *(w.address for w in world.wallets)]))
    return FeeSchedule(price, recipient)


_EXTREMES = (0, 1, -1, S, -S, B, -B, B - 1, -(B - 1), 5 * S, -5 * S, S // 2, -(S // 2))


def fixed(bound: int = B) -> st.SearchStrategy[int]:
    """Fixed-point values biased to the extremes of `[-bound, bound]`."""
    return st.one_of(st.sampled_from([v for v in _EXTREMES if abs(v) <= bound]), st.integers(-bound, bound))


@st.composite
def signed(draw: st.DrawFn, world: World, make: Any, signer: int | None = None) -> bytes:
    """`make(nonce)` signed by a wallet, with a random fault: wrong nonce, another domain, high s,
    r = 0, s = 0 (about one in three is faulty)."""
    who = world.wallets[signer if signer is not None else draw(st.integers(0, len(world.wallets) - 1))]
    nonce = world.state.account(who.address).nonce
    fault = draw(st.sampled_from(["ok"] * 6 + ["nonce", "domain", "high_s", "r0", "s0"]))
    if fault == "nonce":
        nonce += draw(st.sampled_from([1, -1, 2**63])) if nonce else draw(st.sampled_from([1, 2**63]))
    tx: Tx = make(nonce)
    s = sign_tx(OTHER_DOMAIN if fault == "domain" else DOMAIN, tx, who.key)
    if fault in ("high_s", "r0", "s0"):
        r, sig_s, v = s.r, s.s, s.v
        if fault == "high_s":
            sig_s, v = params.SECP256K1_N - sig_s, 55 - v  # the same signature, malleated: EIP-2 rejects it
        elif fault == "r0":
            r = 0
        else:
            sig_s = 0
        return encode_tx(SignedTx(tx, r, sig_s, v))
    return s.encoded


def _id(draw: st.DrawFn, known: int) -> int:
    """An existing id three times in four, else an unknown one."""
    if draw(st.integers(0, 3)) < 3:  # hypothesis favours 0: keep the common case there
        return draw(st.integers(0, known - 1))
    return draw(st.sampled_from([known, known + 7, 2**64 - 1]))


@st.composite
def tx_case(draw: st.DrawFn, world: World, tx_type: int) -> tuple[bytes, int]:
    """One tx of `tx_type` against the world and a batch time."""
    now = draw(st.sampled_from(TIMES))
    n_tasks = len(world.tasks)
    addresses = [w.address for w in world.wallets] + [keccak(b"fresh")[:20]]
    amount = st.one_of(
        st.sampled_from([0, 1, 5, 6, ETH, 100 * ETH, 101 * ETH, params.MAX_AMOUNT]), st.integers(0, 200 * ETH)
    )
    if tx_type == 1:
        to, value = draw(st.sampled_from(addresses)), draw(amount)
        return draw(signed(world, lambda n: Transfer(n, to, value, max_fee_price=FEE_PRICE))), now
    if tx_type == 2:
        to, value = draw(st.sampled_from(addresses)), draw(amount)
        return draw(signed(world, lambda n: Withdraw(n, to, value, max_fee_price=FEE_PRICE))), now
    if tx_type == 3:
        arch = draw(st.sampled_from([1, 2, 3]))
        valid = [(3, 0, 0), (1, 0, 0), (4096, 0, 0)] if arch != 3 else [(2, 2, 2), (64, 200, 3), (1, 1, 64)]
        invalid = [(0, 0, 0), (4097, 0, 0), (2, 1, 0), (3, 2, 65), (3, 2, 1), (64, 256, 2), (100, 163, 0)]
        dims = draw(st.sampled_from(valid * 3 + invalid))
        deadlines = [(now + 1, now + 2), (2_000, 3_000), (now + 1, 2**64 - 1)] * 2
        cd, rd = draw(st.sampled_from([*deadlines, (now, now + 1), (now + 1, now + 1), (now + 5, now + 2)]))
        reward = draw(st.sampled_from([ETH, 1, 0, 100 * ETH, 101 * ETH]))
        return draw(
            signed(
                world,
                lambda n: CreateTask(
                    n, arch, *dims, reward, cd, rd, keccak(b"tc"), keccak(b"td"), max_fee_price=FEE_PRICE
                ),
            )
        ), now
    if tx_type == 4:
        now = draw(st.sampled_from([1_000, 1_999, *TIMES]))
        task_id = _id(draw, n_tasks)
        commitment = keccak(draw(st.binary(max_size=4)))
        return draw(
            signed(world, lambda n: CommitModel(n, task_id, commitment, max_fee_price=FEE_PRICE))
        ), now
    if tx_type == 5:
        return draw(_reveal_test_set(world, n_tasks)), draw(st.sampled_from([2_500, *TIMES]))
    if tx_type == 6:
        task = world.tasks[draw(st.sampled_from([2, 3, 4, 2, 4, 0, 1, 5]))]  # 2-4: test sets revealed
        miner = draw(st.sampled_from([1, 2, 3]))
        weights = task.weights.get(miner, _weights(task.spec, 9))
        salt = task.model_salt
        fault = draw(st.sampled_from(["none", "none", "salt", "count", "value"]))
        if fault == "salt":
            salt = keccak(salt)
        elif fault == "count":
            weights = IntTensor.vector([*weights.values, 0])
        elif fault == "value":
            weights = IntTensor.vector([-weights.values[0] - 1, *weights.values[1:]])
        return draw(
            signed(
                world, lambda n: RevealModel(n, task.task_id, salt, weights, max_fee_price=FEE_PRICE), miner
            )
        ), draw(st.sampled_from([2_500, *TIMES]))
    if tx_type == 7:
        task_id = _id(draw, n_tasks)
        return draw(signed(world, lambda n: FinalizeTask(n, task_id, max_fee_price=FEE_PRICE))), now
    if tx_type == 8:
        nf = draw(st.integers(1, params.SHARED_MAX_FEATURES))
        lr = draw(st.sampled_from([0, 1, 1000, params.SHARED_LR_MAX]))
        count = draw(st.sampled_from([nf + 1, nf + 1, nf, nf + 2]))
        w = IntTensor.vector(draw(st.lists(fixed(params.SHARED_W_MAX), min_size=count, max_size=count)))
        return draw(signed(world, lambda n: CreateModel(n, nf, lr, w, max_fee_price=FEE_PRICE))), now
    if tx_type == 9:
        model_id = _id(draw, len(world.models))
        nf = world.model_features.get(model_id, 2)
        n = draw(st.sampled_from([1, 2, 63, 64, params.MAX_ADD_POINTS, params.MAX_ADD_POINTS + 1, 0]))
        cols = nf if draw(st.integers(0, 5)) < 5 else nf + 1
        x = params.SHARED_X_MAX
        xs = IntTensor.matrix([[draw(fixed(x)) for _ in range(cols)] for _ in range(n)], cols)
        ys = IntTensor.vector([draw(fixed(x)) for _ in range(n)])
        return draw(
            signed(world, lambda nonce: AddData(nonce, model_id, xs, ys, max_fee_price=FEE_PRICE))
        ), now
    model_id = _id(draw, len(world.models))
    m = params.MAX_JOB_STEPS  # both sides of the cap for models of one and of two data chunks
    epochs = draw(st.sampled_from([0, 1, 2, m // 2, m // 2 + 1, m, m + 1, 2**32 - 1]))
    return draw(signed(world, lambda n: Train(n, model_id, epochs, max_fee_price=FEE_PRICE))), now


@st.composite
def _reveal_test_set(draw: st.DrawFn, world: World, n_tasks: int) -> bytes:
    """A RevealTestSet of a run of chunks, valid or with one fault: wrong salt, label, shape, order,
    proof, nTest, a run that is not whole chunks, or past a cap (chunks or values a tx, chunks a task)."""
    task = world.tasks[draw(st.integers(0, n_tasks - 1))]
    spec, k = task.spec, task.spec.chunk_size
    n_chunks = -(-task.labels.shape[0] // k)
    revealed = 1 if task.task_id == 6 else 0  # the world revealed task 6's first chunk
    first = revealed if draw(st.integers(0, 3)) else draw(st.integers(0, n_chunks))
    count = draw(st.integers(1, max(1, n_chunks - first)))
    args = (spec, task.task_id, task.test_salt)
    if first >= n_chunks:  # past the end: a run that does not exist, with the last chunk's data
        tx = replace(
            reveal_run(*args, task.features, task.labels, n_chunks - 1, 1, max_fee_price=FEE_PRICE),
            first_chunk=first,
        )
    else:
        tx = reveal_run(*args, task.features, task.labels, first, count, max_fee_price=FEE_PRICE)
    fault = draw(
        st.sampled_from(
            [
                *("none", "none", "none", "salt", "label", "shape", "extra_row", "empty", "proof", "n_test"),
                *("cut", "run_chunks", "run_values", "task_chunks"),
            ]
        )
    )
    if fault == "salt":
        tx = replace(tx, salt=keccak(tx.salt))
    elif fault == "label":
        tx = replace(
            tx, labels=IntTensor.vector([*tx.labels.values[:-1], draw(st.sampled_from([-1, 2, 64, B]))])
        )
    elif fault == "shape":
        tx = replace(tx, features=IntTensor.matrix([(*row, 0) for row in tx.features.rows()]))
    elif fault == "extra_row":
        tx = replace(tx, features=IntTensor.matrix([*tx.features.rows(), tx.features.rows()[0]]))
    elif fault == "empty":
        tx = replace(tx, features=IntTensor.matrix([], spec.inputs), labels=IntTensor.vector([]))
    elif fault == "proof":
        tampered = draw(st.sampled_from(["drop", "add", "reverse", "flip"]))
        proof = list(tx.proof)
        if tampered == "drop" and proof:
            proof.pop(draw(st.integers(0, len(proof) - 1)))
        elif tampered == "add":
            proof.insert(draw(st.integers(0, len(proof))), keccak(b"sibling"))
        elif tampered == "reverse":
            proof.reverse()
        elif proof:
            proof[0] = keccak(proof[0])
        tx = replace(tx, proof=tuple(proof))
    elif fault == "n_test":
        tx = replace(tx, n_test=draw(st.sampled_from([0, tx.n_test - 1, tx.n_test + 1, 2**32 - 1])))
    elif fault == "cut" and tx.labels.shape[0] > 1:  # one sample short: not whole chunks (unless last)
        m = tx.labels.shape[0] - 1
        tx = replace(
            tx,
            features=IntTensor((m, spec.inputs), tx.features.values[: m * spec.inputs]),
            labels=IntTensor.vector(tx.labels.values[:m]),
        )
    elif fault == "task_chunks":  # more chunks, or samples, than a task may have
        tx = replace(
            tx, n_test=draw(st.sampled_from([k * params.MAX_TEST_CHUNKS + 1, params.MAX_TEST_SAMPLES + 1]))
        )
    elif fault in ("run_chunks", "run_values"):
        # one run past a cap a tx, on a test set of its own (so the commitment does not match either); a
        # tensor's and a tx's own size caps come first, and the codec would refuse the tx
        if fault == "run_chunks":
            n = k * params.MAX_REVEAL_CHUNKS + 1
        else:
            n = params.MAX_REVEAL_VALUES // (spec.inputs + 1) + 1
        width = spec.inputs + 1
        n = min(n, params.MAX_TENSOR_ELEMENTS // width, (params.MAX_TX_BYTES - 2_000) // (4 * width))
        features, labels = _test_set(spec, n, 0)
        tx = reveal_run(*args, features, labels, 0, -(-n // k), max_fee_price=FEE_PRICE)
    task_id = _id(draw, n_tasks) if draw(st.integers(0, 4)) == 0 else task.task_id
    signer = task.submitter if draw(st.integers(0, 3)) < 3 else None
    return draw(signed(world, lambda n: replace(tx, nonce=n, task_id=task_id), signer))


@dataclass(frozen=True)
class JobCase:
    """Batches to run in order; the steps of the last one's jobs are the ones to check."""

    setup: list[tuple[list[bytes], int]]
    final: tuple[list[bytes], int]


@st.composite
def score_case(draw: st.DrawFn) -> JobCase:
    """A fresh task with random extreme test data and weights, revealed: the last batch scores it."""
    arch = draw(st.sampled_from([1, 2, 3]))
    if arch == 3:
        spec = validate_spec(arch, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(2, 4)))
    else:
        spec = validate_spec(arch, draw(st.integers(1, 4)), 0, 0)
    n = draw(st.one_of(st.integers(1, 8), st.sampled_from([64, 65, 129])))
    per = draw(st.sampled_from([None, 1, 2]))
    bound = draw(st.sampled_from([B, S, 3]))
    value = fixed(bound)
    features = IntTensor.matrix([[draw(value) for _ in range(spec.inputs)] for _ in range(n)], spec.inputs)
    if arch == 1:
        labels = IntTensor.vector([draw(fixed()) for _ in range(n)])
    elif arch == 2:
        labels = IntTensor.vector([draw(st.integers(0, 1)) for _ in range(n)])
    else:
        labels = IntTensor.vector([draw(st.integers(0, spec.outputs - 1)) for _ in range(n)])
    weights = IntTensor.vector([draw(fixed()) for _ in range(spec.param_count)])
    sub, miner, rival = Wallet.from_seed(0), Wallet.from_seed(1), Wallet.from_seed(2)
    salt, msalt = keccak(b"ts"), keccak(b"ms")
    commit = commitment_to_test_set(root_of_test_set(spec, features, labels), n, salt)
    digest = weights_hash(weights.values)
    first = miner if draw(st.booleans()) else rival  # who commits first (a tie goes to the lower seq)
    second = rival if first is miner else miner
    rival_weights = (
        weights if draw(st.booleans()) else IntTensor.vector([draw(fixed()) for _ in range(spec.param_count)])
    )
    setup = [
        (
            [
                sub.sign(
                    lambda k: CreateTask(
                        k,
                        arch,
                        spec.inputs,
                        spec.hidden,
                        spec.outputs,
                        ETH,
                        100,
                        200,
                        commit,
                        salt,
                        max_fee_price=FEE_PRICE,
                    )
                ),
                first.sign(
                    lambda k: CommitModel(
                        k,
                        0,
                        model_commitment(
                            0,
                            first.address,
                            weights_hash((weights if first is miner else rival_weights).values),
                            msalt,
                        ),
                        max_fee_price=FEE_PRICE,
                    )
                ),
                second.sign(
                    lambda k: CommitModel(
                        k,
                        0,
                        model_commitment(
                            0,
                            second.address,
                            weights_hash((weights if second is miner else rival_weights).values),
                            msalt,
                        ),
                        max_fee_price=FEE_PRICE,
                    )
                ),
            ],
            50,
        ),
        # the test set in one tx, or in runs of one or two chunks
        (
            [
                sub.sign(at_nonce(r))
                for r in reveal_txs(spec, 0, salt, features, labels, 0, per, max_fee_price=FEE_PRICE)
            ],
            150,
        ),
    ]
    if draw(st.booleans()):  # the rival is scored first, so the best is contested
        setup.append(
            ([rival.sign(lambda k: RevealModel(k, 0, msalt, rival_weights, max_fee_price=FEE_PRICE))], 150)
        )
    del digest
    return JobCase(
        setup, ([miner.sign(lambda k: RevealModel(k, 0, msalt, weights, max_fee_price=FEE_PRICE))], 150)
    )


@st.composite
def train_case(draw: st.DrawFn) -> JobCase:
    """A fresh shared model with extreme weights, learning rate and points: the last batch trains it."""
    nf = draw(st.integers(1, params.SHARED_MAX_FEATURES))
    lr = draw(st.sampled_from([0, 1, 1000, params.SHARED_LR_MAX]) | st.integers(0, params.SHARED_LR_MAX))
    w = IntTensor.vector([draw(fixed(params.SHARED_W_MAX)) for _ in range(nf + 1)])
    x = params.SHARED_X_MAX
    point = fixed(x) | st.sampled_from([x, -x])
    owner = Wallet.from_seed(3)
    create = owner.sign(
        lambda k: CreateModel(k, nf, lr, w, max_fee_price=FEE_PRICE)
    )  # nonce 0: signed before the AddData txs
    adds = []
    for _ in range(draw(st.integers(1, 2))):
        n = draw(st.sampled_from([1, 3, 70, params.MAX_ADD_POINTS]))
        xs = IntTensor.matrix([[draw(point) for _ in range(nf)] for _ in range(n)], nf)
        ys = IntTensor.vector([draw(point) for _ in range(n)])
        adds.append(owner.sign(partial(_add, model_id=0, xs=xs, ys=ys)))
    epochs = draw(st.integers(1, 2))
    setup = [([create, *adds], 10)]
    return JobCase(setup, ([owner.sign(lambda k: Train(k, 0, epochs, max_fee_price=FEE_PRICE))], 20))


def run_job_case(case: JobCase, state: State, domain: Domain = DOMAIN) -> BatchResult:
    """Run the setup batches and the final one; returns the final batch."""
    for txs, now in case.setup:
        state = apply_batch(state, [], txs, BatchContext(domain, FEES, now)).post_state
    txs, now = case.final
    return apply_batch(state, [], txs, BatchContext(domain, FEES, now))
