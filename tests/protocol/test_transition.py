"""The state transition: every tx type's success and failure paths, jobs, deposits, the trace."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import pytest

from protocol import keys, params
from protocol.deposits import Deposit
from protocol.errors import ProtocolError
from protocol.hashing import ZERO32, keccak, merkle_root
from protocol.models import Arch, validate_spec
from protocol.receipts import Reason
from protocol.records import CommitStatus, TaskFlag, Withdrawal
from protocol.signing import Domain, sign_tx
from protocol.state import State
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, reveal_tx, reveal_txs, root_of_test_set
from protocol.transition import BatchContext, StepKind, apply_batch, step_hash
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
    Withdraw,
)
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEES
from tests.support.harness import Harness
from tests.support.paper import paper_model
from tests.support.tasks import LINREG2, commit, linreg_task
from tests.support.wallets import ETH, at_nonce

S = params.FIXED_SCALE


# --- transfers, nonces, signatures -------------------------------------------------------------


def test_transfer_moves_funds_and_bumps_nonce(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    h.expect(a.sign(lambda n: Transfer(n, b.address, 3 * ETH, max_fee_price=FEE_PRICE)), Reason.OK)
    assert h.state.account(a.address).balance == 97 * ETH - h.paid(a.address)
    assert h.state.account(b.address).balance == 103 * ETH
    assert h.state.account(a.address).nonce == 1


def test_transfer_to_self_and_to_new_account(h: Harness) -> None:
    a = h.wallets[0]
    h.expect(a.sign(lambda n: Transfer(n, a.address, ETH, max_fee_price=FEE_PRICE)), Reason.OK)
    assert h.state.account(a.address).balance == 100 * ETH - h.paid(a.address)
    fresh = b"\x42" * 20
    h.expect(a.sign(lambda n: Transfer(n, fresh, 5, max_fee_price=FEE_PRICE)), Reason.OK)
    assert h.state.account(fresh).balance == 5


def test_insufficient_balance_changes_nothing(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    h.expect(
        a.sign(lambda n: Transfer(n, b.address, 101 * ETH, max_fee_price=FEE_PRICE)),
        Reason.INSUFFICIENT_BALANCE,
    )
    assert h.state.account(a.address).nonce == 0


@pytest.mark.parametrize("nonce", [1, 5])
def test_gapped_nonce_fails(h: Harness, nonce: int) -> None:
    a, b = h.wallets[0], h.wallets[1]
    h.expect(
        a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE), nonce=nonce), Reason.BAD_NONCE
    )


def test_replayed_tx_fails(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    raw = a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE))
    h.expect(raw, Reason.OK)
    h.expect(raw, Reason.BAD_NONCE)


def test_signature_for_another_deployment_does_not_move_the_signers_funds(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    other = Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract)
    receipt = h.one(a.sign(lambda n: Transfer(n, b.address, ETH, max_fee_price=FEE_PRICE), domain=other))
    assert receipt.sender != a.address
    assert receipt.reason is Reason.FEE_UNPAID  # the address it recovers to holds nothing
    assert h.state.account(a.address).balance == 100 * ETH


def test_malformed_and_badly_signed_bytes_fail(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    raw = a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE), nonce=0)
    h.expect(raw[:-3], Reason.DECODE_ERROR)
    h.expect(raw + b"\x00", Reason.DECODE_ERROR)
    h.expect(b"\x63" + raw[1:], Reason.DECODE_ERROR)
    s = int.from_bytes(raw[-33:-1], "big")
    high_s = raw[:-33] + (params.SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - raw[-1]])
    h.expect(high_s, Reason.BAD_SIGNATURE)
    zero_r = raw[:-65] + b"\x00" * 32 + raw[-33:]
    h.expect(zero_r, Reason.BAD_SIGNATURE)


def test_withdraw_writes_a_claimable_leaf(h: Harness) -> None:
    a = h.wallets[0]
    l1 = b"\x99" * 20
    r0 = h.expect(a.sign(lambda n: Withdraw(n, l1, 2 * ETH, max_fee_price=FEE_PRICE)), Reason.OK)
    r1 = h.expect(a.sign(lambda n: Withdraw(n, l1, 3, max_fee_price=FEE_PRICE)), Reason.OK)
    assert (r0.created_id, r1.created_id) == (0, 1)
    assert h.state.withdrawal(0) == Withdrawal(l1, 2 * ETH)
    assert h.state.withdrawal(1) == Withdrawal(l1, 3)
    assert h.state.account(a.address).balance == 98 * ETH - 3 - h.paid(a.address)
    h.expect(
        a.sign(lambda n: Withdraw(n, l1, 100 * ETH, max_fee_price=FEE_PRICE)), Reason.INSUFFICIENT_BALANCE
    )


# --- deposits -----------------------------------------------------------------------------------


def test_deposits_are_credited_in_queue_order(h: Harness) -> None:
    who = b"\x07" * 20
    result = h.run(deposits=[Deposit(0, who, 5), Deposit(1, who, 7)])
    assert [s.kind for s in result.steps] == [StepKind.DEPOSIT, StepKind.DEPOSIT]
    assert h.state.account(who).balance == 12
    assert h.state.meta().deposit_count == 2
    with pytest.raises(ProtocolError, match="continue the queue at 2"):
        h.run(deposits=[Deposit(3, who, 1)])


# --- the competition ---------------------------------------------------------------------------


def test_competition_round_pays_the_best_score(h: Harness) -> None:
    task_id, features, labels, salt = linreg_task(h)
    sub = h.wallets[0].address
    assert h.state.account(sub).balance == 90 * ETH - h.paid(sub)  # reward escrowed
    exact, off, worse = [S, S, 0], [S, S, S // 2], [S // 2, S, 0]
    salts = {i: commit(h, i, task_id, w) for i, w in ((1, off), (2, exact), (3, worse))}
    h.now += 100
    submitter = h.wallets[0]
    h.expect(
        submitter.sign(
            lambda n: reveal_tx(LINREG2, task_id, salt, features, labels, n, max_fee_price=FEE_PRICE)
        ),
        Reason.OK,
    )
    task = h.state.task(task_id)
    assert task is not None and task.has(TaskFlag.TEST_REVEALED) and task.n_test == 150
    for i, w in ((1, off), (2, exact), (3, worse)):
        result = h.run(
            [
                h.wallets[i].sign(
                    partial(
                        RevealModel,
                        task_id=task_id,
                        salt=salts[i],
                        weights=IntTensor.vector(w),
                        max_fee_price=FEE_PRICE,
                    )
                )
            ]
        )
        (receipt,) = result.receipts
        assert receipt.success, receipt.detail
        kinds = [s.kind for s in result.steps]
        assert kinds == [StepKind.TX] + [StepKind.SCORE_CHUNK] * 3  # 150 samples, 64 a chunk
        assert (receipt.first_step, receipt.last_step) == (0, 3)
    scores = {i: h.state.commitment(task_id, h.wallets[i].address) for i in (1, 2, 3)}
    assert all(c is not None and c.status == CommitStatus.SCORED for c in scores.values())
    assert scores[2] is not None and scores[2].score == 0  # exact fit: MSE 0
    assert scores[1] is not None and scores[1].score == -(S // 4)  # off by S/2 everywhere: MSE S/4
    task = h.state.task(task_id)
    assert task is not None and task.best_miner == h.wallets[2].address
    h.expect(
        h.wallets[4].sign(lambda n: FinalizeTask(n, task_id, max_fee_price=FEE_PRICE)), Reason.WRONG_PHASE
    )
    h.now += 100
    h.expect(h.wallets[4].sign(lambda n: FinalizeTask(n, task_id, max_fee_price=FEE_PRICE)), Reason.OK)
    winner = h.wallets[2].address
    assert h.state.account(winner).balance == 110 * ETH - h.paid(winner)
    h.expect(
        h.wallets[4].sign(lambda n: FinalizeTask(n, task_id, max_fee_price=FEE_PRICE)), Reason.WRONG_PHASE
    )


def test_tie_goes_to_the_earliest_commitment(h: Harness) -> None:
    task_id, features, labels, salt = linreg_task(h)
    same = [S, S, 0]
    salts = {i: commit(h, i, task_id, same) for i in (3, 1)}  # miner 3 commits first
    h.now += 100
    h.expect(
        h.wallets[0].sign(
            lambda n: reveal_tx(LINREG2, task_id, salt, features, labels, n, max_fee_price=FEE_PRICE)
        ),
        Reason.OK,
    )
    for i in (1, 3):  # miner 1 reveals first
        h.expect(
            h.wallets[i].sign(
                partial(
                    RevealModel,
                    task_id=task_id,
                    salt=salts[i],
                    weights=IntTensor.vector(same),
                    max_fee_price=FEE_PRICE,
                )
            ),
            Reason.OK,
        )
    task = h.state.task(task_id)
    assert task is not None and task.best_miner == h.wallets[3].address


def test_copied_commitment_cannot_be_revealed(h: Harness) -> None:
    task_id, features, labels, salt = linreg_task(h)
    weights = [S, S, 0]
    miner, copier = h.wallets[1], h.wallets[2]
    msalt = keccak(b"m")
    stolen = model_commitment(task_id, miner.address, weights_hash(weights), msalt)
    h.expect(miner.sign(lambda n: CommitModel(n, task_id, stolen, max_fee_price=FEE_PRICE)), Reason.OK)
    h.expect(copier.sign(lambda n: CommitModel(n, task_id, stolen, max_fee_price=FEE_PRICE)), Reason.OK)
    h.now += 100
    h.expect(
        h.wallets[0].sign(
            lambda n: reveal_tx(LINREG2, task_id, salt, features, labels, n, max_fee_price=FEE_PRICE)
        ),
        Reason.OK,
    )
    reveal = lambda n: RevealModel(n, task_id, msalt, IntTensor.vector(weights), max_fee_price=FEE_PRICE)  # noqa: E731
    h.expect(copier.sign(reveal), Reason.HASH_MISMATCH)
    h.expect(miner.sign(reveal), Reason.OK)


def test_competition_failure_paths(h: Harness) -> None:
    task_id, features, labels, salt = linreg_task(h)
    sub, m1, m2 = h.wallets[0], h.wallets[1], h.wallets[2]
    c = keccak(b"c")
    h.expect(m1.sign(lambda n: CommitModel(n, 99, c, max_fee_price=FEE_PRICE)), Reason.UNKNOWN_TASK)
    h.expect(m1.sign(lambda n: CommitModel(n, task_id, c, max_fee_price=FEE_PRICE)), Reason.OK)
    h.expect(m1.sign(lambda n: CommitModel(n, task_id, c, max_fee_price=FEE_PRICE)), Reason.ALREADY_COMMITTED)
    # reveal of the test set before the commit deadline, by another, with a wrong salt or shape
    h.expect(
        sub.sign(lambda n: reveal_tx(LINREG2, task_id, salt, features, labels, n, max_fee_price=FEE_PRICE)),
        Reason.WRONG_PHASE,
    )
    h.expect(
        m1.sign(lambda n: RevealModel(n, task_id, c, IntTensor.vector([0, 0, 0]), max_fee_price=FEE_PRICE)),
        Reason.WRONG_PHASE,
    )
    h.now += 100
    h.expect(m2.sign(lambda n: CommitModel(n, task_id, c, max_fee_price=FEE_PRICE)), Reason.WRONG_PHASE)
    h.expect(
        m1.sign(lambda n: reveal_tx(LINREG2, task_id, salt, features, labels, n, max_fee_price=FEE_PRICE)),
        Reason.NOT_SUBMITTER,
    )
    reveal = reveal_tx(LINREG2, task_id, salt, features, labels, 0, max_fee_price=FEE_PRICE)
    h.expect(sub.sign(at_nonce(replace(reveal, salt=c))), Reason.HASH_MISMATCH)
    short = IntTensor.vector(labels.values[:-1])
    h.expect(sub.sign(at_nonce(replace(reveal, labels=short))), Reason.INVALID_PARAMS)
    h.expect(
        sub.sign(lambda n: reveal_tx(LINREG2, task_id, salt, features, labels, n, max_fee_price=FEE_PRICE)),
        Reason.OK,
    )
    h.expect(
        sub.sign(lambda n: reveal_tx(LINREG2, task_id, salt, features, labels, n, max_fee_price=FEE_PRICE)),
        Reason.WRONG_PHASE,
    )
    h.expect(
        m2.sign(lambda n: RevealModel(n, task_id, c, IntTensor.vector([0, 0, 0]), max_fee_price=FEE_PRICE)),
        Reason.NO_COMMITMENT,
    )
    h.expect(
        m1.sign(lambda n: RevealModel(n, task_id, c, IntTensor.vector([0, 0]), max_fee_price=FEE_PRICE)),
        Reason.INVALID_PARAMS,
    )
    h.expect(
        m1.sign(lambda n: RevealModel(n, task_id, c, IntTensor.vector([0, 0, 0]), max_fee_price=FEE_PRICE)),
        Reason.HASH_MISMATCH,
    )
    h.now += 100
    h.expect(
        m1.sign(lambda n: RevealModel(n, task_id, c, IntTensor.vector([0, 0, 0]), max_fee_price=FEE_PRICE)),
        Reason.WRONG_PHASE,
    )
    # nobody scored: the escrow returns to the submitter
    h.expect(m2.sign(lambda n: FinalizeTask(n, task_id, max_fee_price=FEE_PRICE)), Reason.OK)
    assert h.state.account(sub.address).balance == 100 * ETH - h.paid(sub.address)
    h.expect(m2.sign(lambda n: FinalizeTask(n, 99, max_fee_price=FEE_PRICE)), Reason.UNKNOWN_TASK)


@pytest.mark.parametrize(
    ("arch", "dims", "reward", "deadlines"),
    [
        (4, (2, 0, 0), ETH, (100, 200)),  # unknown arch
        (Arch.LINREG, (2, 3, 0), ETH, (100, 200)),  # hidden must be 0
        (Arch.MLP, (64, 32, 1), ETH, (100, 200)),  # one class
        (Arch.MLP, (4096, 4096, 10), ETH, (100, 200)),  # too many MACs a sample
        (Arch.LINREG, (2, 0, 0), 0, (100, 200)),  # no reward
        (Arch.LINREG, (2, 0, 0), ETH, (0, 200)),  # commit deadline not in the future
        (Arch.LINREG, (2, 0, 0), ETH, (200, 200)),  # reveal not after commit
    ],
)
def test_create_task_rejects_invalid_params(
    h: Harness, arch: int, dims: tuple[int, int, int], reward: int, deadlines: tuple[int, int]
) -> None:
    commit_at, reveal_at = (h.now + d for d in deadlines)
    raw = h.wallets[0].sign(
        lambda n: CreateTask(
            n, min(arch, 3), *dims, reward, commit_at, reveal_at, ZERO32, ZERO32, max_fee_price=FEE_PRICE
        )
    )
    if arch == 4:  # not even encodable as arch 4: the codec's range; use the closest valid bytes
        raw = raw[:9] + b"\x04" + raw[10:]
        h.expect(raw, Reason.DECODE_ERROR)
    else:
        h.expect(raw, Reason.INVALID_PARAMS)


def test_create_task_needs_the_reward(h: Harness) -> None:
    raw = h.wallets[0].sign(
        lambda n: CreateTask(
            n, Arch.LINREG, 1, 0, 0, 101 * ETH, h.now + 1, h.now + 2, ZERO32, ZERO32, max_fee_price=FEE_PRICE
        )
    )
    h.expect(raw, Reason.INSUFFICIENT_BALANCE)


def test_test_set_revealed_in_runs_of_chunks(h: Harness) -> None:
    """A test set revealed a chunk a tx: in order only, each run proven against the committed root,
    whole chunks only; it counts as revealed after the last run, and scores as if revealed at once."""
    task_id, features, labels, salt = linreg_task(h)  # 150 samples: chunks of 64, 64 and 22
    weights = [S, S, 0]
    msalt = commit(h, 1, task_id, weights)
    h.now += 100
    sub = h.wallets[0]
    runs = reveal_txs(LINREG2, task_id, salt, features, labels, chunks_per_tx=1, max_fee_price=FEE_PRICE)
    assert [(r.first_chunk, r.labels.shape[0], len(r.proof)) for r in runs] == [
        (0, 64, 2),
        (1, 64, 2),
        (2, 22, 2),
    ]
    h.expect(sub.sign(at_nonce(runs[1])), Reason.INVALID_PARAMS)  # chunk 0 comes first
    h.expect(sub.sign(at_nonce(runs[0])), Reason.OK)
    task = h.state.task(task_id)
    assert task is not None and (task.revealed_chunks, task.has(TaskFlag.TEST_REVEALED)) == (1, False)
    reveal = lambda n: RevealModel(n, task_id, msalt, IntTensor.vector(weights), max_fee_price=FEE_PRICE)  # noqa: E731
    h.expect(h.wallets[1].sign(reveal), Reason.WRONG_PHASE)  # not revealed until the last chunk
    h.expect(sub.sign(at_nonce(runs[0])), Reason.INVALID_PARAMS)  # chunk 0 again
    h.expect(sub.sign(at_nonce(replace(runs[1], proof=runs[1].proof[::-1]))), Reason.HASH_MISMATCH)
    h.expect(sub.sign(at_nonce(replace(runs[1], proof=runs[1].proof[:1]))), Reason.HASH_MISMATCH)
    other = IntTensor.vector([v + 1 for v in runs[1].labels.values])  # not the committed chunk
    h.expect(sub.sign(at_nonce(replace(runs[1], labels=other))), Reason.HASH_MISMATCH)
    part_x = IntTensor((63, 2), runs[1].features.values[:126])  # not a whole chunk, and not the last
    part_y = IntTensor.vector(runs[1].labels.values[:63])
    h.expect(sub.sign(at_nonce(replace(runs[1], features=part_x, labels=part_y))), Reason.INVALID_PARAMS)
    h.expect(sub.sign(at_nonce(replace(runs[1], n_test=151))), Reason.HASH_MISMATCH)  # nTest is committed
    h.expect(sub.sign(at_nonce(replace(runs[2], first_chunk=1))), Reason.INVALID_PARAMS)
    h.expect(sub.sign(at_nonce(runs[1])), Reason.OK)
    h.expect(sub.sign(at_nonce(runs[2])), Reason.OK)
    task = h.state.task(task_id)
    assert task is not None and task.has(TaskFlag.TEST_REVEALED)
    assert (task.revealed_chunks, task.n_test, task.test_root) == (3, 150, runs[0].test_root)
    h.expect(sub.sign(at_nonce(runs[2])), Reason.WRONG_PHASE)
    h.expect(h.wallets[1].sign(reveal), Reason.OK)
    stored = h.state.commitment(task_id, h.wallets[1].address)
    assert stored is not None and (stored.status, stored.score) == (CommitStatus.SCORED, 0)  # exact fit


def test_test_set_of_4096_samples_of_64_features(h: Harness) -> None:
    """The issue's size: 4,096 samples × 64 features (LINREG, 64 chunks of 64) revealed in runs of
    MAX_REVEAL_VALUES and scored; the one-tx cap of old (16,384 values) is a quarter of it."""
    spec = validate_spec(Arch.LINREG, 64, 0, 0)
    rows = [[((i * 31 + j * 7) % 200 - 100) * S // 100 for j in range(64)] for i in range(4096)]
    features = IntTensor.matrix(rows)
    labels = IntTensor.vector([sum(r[:2]) for r in rows])  # y = x0 + x1
    salt = keccak(b"big")
    commitment = commitment_to_test_set(root_of_test_set(spec, features, labels), 4096, salt)
    sub, miner = h.wallets[0], h.wallets[1]
    create = lambda n: CreateTask(  # noqa: E731
        n, Arch.LINREG, 64, 0, 0, ETH, h.now + 10, h.now + 20, commitment, ZERO32, max_fee_price=FEE_PRICE
    )
    task_id = h.expect(sub.sign(create), Reason.OK).created_id
    assert task_id is not None
    weights = [S, S] + [0] * 63
    msalt = keccak(b"m")
    mc = model_commitment(task_id, miner.address, weights_hash(weights), msalt)
    h.expect(miner.sign(lambda n: CommitModel(n, task_id, mc, max_fee_price=FEE_PRICE)), Reason.OK)
    h.now += 10
    runs = reveal_txs(spec, task_id, salt, features, labels, max_fee_price=FEE_PRICE)
    assert len(runs) == 22 and all(r.labels.shape[0] * 65 <= params.MAX_REVEAL_VALUES for r in runs)
    result = h.run([sub.sign(at_nonce(r)) for r in runs])
    assert all(r.success for r in result.receipts), [r.detail for r in result.receipts if not r.success]
    result = h.run(
        [
            miner.sign(
                lambda n: RevealModel(n, task_id, msalt, IntTensor.vector(weights), max_fee_price=FEE_PRICE)
            )
        ]
    )
    assert [s.kind for s in result.steps] == [StepKind.TX] + [StepKind.SCORE_CHUNK] * 64
    stored = h.state.commitment(task_id, miner.address)
    assert stored is not None and (stored.status, stored.score) == (CommitStatus.SCORED, 0)


def scored_round(
    h: Harness,
    arch: Arch,
    dims: tuple[int, int, int],
    weights: list[int],
    rows: list[list[int]],
    labels: list[int],
) -> int:
    """One miner's whole round on a fresh task; returns the score the rollup gave it."""
    spec = validate_spec(arch, *dims)
    features, lab = IntTensor.matrix(rows), IntTensor.vector(labels)
    salt, msalt = keccak(b"s"), keccak(b"m")
    commitment = commitment_to_test_set(root_of_test_set(spec, features, lab), len(labels), salt)
    sub, miner = h.wallets[0], h.wallets[1]
    create = lambda n: CreateTask(  # noqa: E731
        n, arch, *dims, ETH, h.now + 10, h.now + 20, commitment, ZERO32, max_fee_price=FEE_PRICE
    )
    task_id = h.expect(sub.sign(create), Reason.OK).created_id
    assert task_id is not None
    mc = model_commitment(task_id, miner.address, weights_hash(weights), msalt)
    h.expect(miner.sign(lambda n: CommitModel(n, task_id, mc, max_fee_price=FEE_PRICE)), Reason.OK)
    h.now += 10
    h.expect(
        sub.sign(lambda n: reveal_tx(spec, task_id, salt, features, lab, n, max_fee_price=FEE_PRICE)),
        Reason.OK,
    )
    h.expect(
        miner.sign(
            lambda n: RevealModel(n, task_id, msalt, IntTensor.vector(weights), max_fee_price=FEE_PRICE)
        ),
        Reason.OK,
    )
    h.now += 10
    stored = h.state.commitment(task_id, miner.address)
    assert stored is not None
    return stored.score


def test_logreg_brier_and_mlp_accuracy_scores(h: Harness) -> None:
    # LOGREG: sigmoid(S) = 3S/4, sigmoid(-S) = S/4, sigmoid(2S) = 7S/8, sigmoid(-S/2) = 3S/8, so the
    # Brier score is -((S/4)^2 + (S/4)^2 + (S/8)^2 + (5S/8)^2) / (4 S).
    brier = -(((S // 4) ** 2 + (S // 4) ** 2 + (S // 8) ** 2 + (5 * S // 8) ** 2) // (4 * S))
    logreg = scored_round(h, Arch.LOGREG, (1, 0, 0), [S, 0], [[S], [-S], [2 * S], [-S // 2]], [1, 0, 1, 1])
    assert logreg == brier
    identity = [S, 0, 0, S, 0, 0, S, 0, 0, S, 0, 0]  # two identity layers: argmax of the input
    assert scored_round(h, Arch.MLP, (2, 2, 2), identity, [[S, 0], [0, S], [3, 1]], [0, 1, 1]) == 2


def test_labels_must_suit_the_architecture(h: Harness) -> None:
    bad_labels = IntTensor.vector([2])
    spec = validate_spec(Arch.LOGREG, 1, 0, 0)
    c = commitment_to_test_set(root_of_test_set(spec, IntTensor.matrix([[1]]), bad_labels), 1, ZERO32)
    created = h.expect(
        h.wallets[0].sign(
            lambda n: CreateTask(
                n, Arch.LOGREG, 1, 0, 0, ETH, h.now + 1, h.now + 5, c, ZERO32, max_fee_price=FEE_PRICE
            )
        ),
        Reason.OK,
    )
    h.now += 1
    tid = created.created_id
    assert tid is not None
    h.expect(
        h.wallets[0].sign(
            lambda n: reveal_tx(
                spec, tid, ZERO32, IntTensor.matrix([[1]]), bad_labels, n, max_fee_price=FEE_PRICE
            )
        ),
        Reason.INVALID_PARAMS,
    )


# --- shared models: the paper's workload -----------------------------------------------------


def test_paper_workload_to_the_bit(h: Harness) -> None:
    model_id = paper_model(h)
    trainer = h.wallets[1]
    result = h.run([trainer.sign(lambda n: Train(n, model_id, 1, max_fee_price=FEE_PRICE))])
    assert [s.kind for s in result.steps] == [StepKind.TX, StepKind.TRAIN_CHUNK]
    model = h.state.model(model_id)
    assert model is not None and model.weights == (100262000, 3420000) and model.epochs_trained == 1
    result = h.run([trainer.sign(lambda n: Train(n, model_id, 1999, max_fee_price=FEE_PRICE))])
    assert len(result.steps) == 2000
    model = h.state.model(model_id)
    assert model is not None and model.weights == (709424000, -7180000) and model.epochs_trained == 2000


def test_add_data_fills_chunks_in_order(h: Harness) -> None:
    owner = h.wallets[0]
    r = h.expect(
        owner.sign(lambda n: CreateModel(n, 2, 10, IntTensor.vector([0, 0, 0]), max_fee_price=FEE_PRICE)),
        Reason.OK,
    )
    model_id = r.created_id
    assert model_id is not None
    per = params.SHARED_CHUNK_POINTS
    for batch in range(3):
        pts = [[batch * 1000 + i, -i] for i in range(per - 28)]
        h.expect(
            owner.sign(
                partial(
                    AddData,
                    model_id=model_id,
                    xs=IntTensor.matrix(pts),
                    ys=IntTensor.vector([1] * len(pts)),
                    max_fee_price=FEE_PRICE,
                )
            ),
            Reason.OK,
        )
    model = h.state.model(model_id)
    assert model is not None and model.n_points == 3 * (per - 28)
    chunk0 = h.state.data_chunk(model_id, 0, 3)
    chunk1 = h.state.data_chunk(model_id, 1, 3)
    assert len(chunk0) == per and chunk0[per - 28] == (1000, 0, 1)
    assert len(chunk1) == per and len(h.state.data_chunk(model_id, 2, 3)) == 3 * (per - 28) - 2 * per
    # training runs one step a chunk
    result = h.run([owner.sign(lambda n: Train(n, model_id, 2, max_fee_price=FEE_PRICE))])
    assert [s.kind for s in result.steps].count(StepKind.TRAIN_CHUNK) == 2 * 3


def test_shared_model_failure_paths(h: Harness) -> None:
    owner = h.wallets[0]
    h.expect(
        owner.sign(lambda n: CreateModel(n, 1, 1000, IntTensor.vector([1, 2, 3]), max_fee_price=FEE_PRICE)),
        Reason.INVALID_PARAMS,
    )
    h.expect(
        owner.sign(
            lambda n: AddData(n, 0, IntTensor.matrix([[1]]), IntTensor.vector([1]), max_fee_price=FEE_PRICE)
        ),
        Reason.UNKNOWN_MODEL,
    )
    h.expect(owner.sign(lambda n: Train(n, 0, 1, max_fee_price=FEE_PRICE)), Reason.UNKNOWN_MODEL)
    r = h.expect(
        owner.sign(lambda n: CreateModel(n, 1, 1000, IntTensor.vector([1, 2]), max_fee_price=FEE_PRICE)),
        Reason.OK,
    )
    mid = r.created_id
    assert mid is not None
    h.expect(
        owner.sign(lambda n: Train(n, mid, 1, max_fee_price=FEE_PRICE)), Reason.INVALID_PARAMS
    )  # no data yet
    h.expect(
        owner.sign(
            lambda n: AddData(
                n, mid, IntTensor.matrix([[1, 2]]), IntTensor.vector([1]), max_fee_price=FEE_PRICE
            )
        ),
        Reason.INVALID_PARAMS,
    )
    h.expect(
        owner.sign(
            lambda n: AddData(n, mid, IntTensor.matrix([[1]]), IntTensor.vector([1]), max_fee_price=FEE_PRICE)
        ),
        Reason.OK,
    )
    h.expect(owner.sign(lambda n: Train(n, mid, 0, max_fee_price=FEE_PRICE)), Reason.INVALID_PARAMS)
    h.expect(
        owner.sign(lambda n: Train(n, mid, params.MAX_JOB_STEPS + 1, max_fee_price=FEE_PRICE)),
        Reason.INVALID_PARAMS,
    )


# --- the trace -------------------------------------------------------------------------------


def test_trace_root_commits_every_step(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    who = b"\x05" * 20
    result = h.run(
        [
            a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE)),
            b"\x01junk",
            b.sign(lambda n: Transfer(n, who, 2, max_fee_price=FEE_PRICE)),
        ],
        deposits=[Deposit(0, who, 9)],
    )
    assert [s.kind for s in result.steps] == [StepKind.DEPOSIT, StepKind.TX, StepKind.TX, StepKind.TX]
    assert [s.machine.cursor for s in result.steps] == [1, 2, 3, 4]
    assert result.steps[2].state_root == result.steps[1].state_root  # the junk tx changed nothing
    assert result.trace_root == merkle_root([s.hash for s in result.steps])
    last = result.steps[-1]
    assert last.hash == step_hash(result.post_root, 4, None)
    assert [r.reason for r in result.receipts] == [Reason.OK, Reason.DECODE_ERROR, Reason.OK]


def test_apply_batch_leaves_its_input_state_unchanged(h: Harness) -> None:
    before = h.state
    root = before.root
    h.run([h.wallets[0].sign(lambda n: Transfer(n, h.wallets[1].address, 1, max_fee_price=FEE_PRICE))])
    assert before.root == root and before.account(h.wallets[0].address).nonce == 0


def test_empty_batch_has_no_steps() -> None:
    state = State()
    result = apply_batch(state, [], [], BatchContext(DOMAIN, FEES, 0))
    assert result.steps == () and result.trace_root == ZERO32 and result.post_root == state.root


def test_keys_are_namespaced() -> None:
    assert keys.task_key(1) != keys.model_key(1) != keys.withdrawal_key(1)
    assert keys.test_chunk_key(1, 0) != keys.data_chunk_key(1, 0)


def test_signed_encoding_is_the_tx_hash_preimage(h: Harness) -> None:
    a = h.wallets[0]
    signed = sign_tx(DOMAIN, Transfer(0, a.address, 0, max_fee_price=FEE_PRICE), a.key)
    (receipt,) = h.run([signed.encoded]).receipts
    assert receipt.tx_hash == signed.hash == keccak(signed.encoded)
