"""Attacks on the rollup's rules (docs/results/reliability.md), through `apply_batch` with fees on.

- The paper's Byzantine submitter (section 4): he posts a problem he has already solved and mines it
  under a second identity. On the rollup a task's reward is escrowed from its submitter, never minted,
  so winning it back only returns his own ETH, less the fees both identities paid; honest miners lose
  their fees only, and no ETH is created.
- A reveal after the deadline, a replayed signature from another chain id or deployment, and fee
  underpayment: each fails with its reason and moves nothing.

A copied commitment is `test_transition.py::test_copied_commitment_cannot_be_revealed`; the fee rules
one by one are test_fees.py.
"""

from __future__ import annotations

from functools import partial

import pytest

from protocol import params
from protocol.hashing import keccak
from protocol.receipts import Reason
from protocol.records import CommitStatus, TaskFlag
from protocol.signing import Domain
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import reveal_tx
from protocol.txrules import model_commitment
from protocol.txs import CommitModel, FinalizeTask, RevealModel, Transfer
from tests.support.domain import DOMAIN
from tests.support.fees import FEE_PRICE, FEE_RECIPIENT
from tests.support.harness import Harness
from tests.support.tasks import LINREG2, linreg_task
from tests.support.wallets import ETH

S = params.FIXED_SCALE
REWARD = 10 * ETH


def total_eth(h: Harness) -> int:
    """Every wei on L2 the harness's accounts and the fee recipient hold, escrow included."""
    held = sum(h.state.account(w.address).balance for w in h.wallets)
    tasks = (h.state.task(i) for i in range(h.state.meta().next_task_id))
    escrow = sum(t.reward for t in tasks if t is not None and not t.has(TaskFlag.FINALIZED))
    return held + h.state.account(FEE_RECIPIENT).balance + escrow


def _commit(h: Harness, miner: int, task_id: int, weights: list[int]) -> bytes:
    wallet = h.wallets[miner]
    salt = keccak(b"attack salt" + bytes([miner]))
    commitment = model_commitment(task_id, wallet.address, weights_hash(weights), salt)
    h.expect(wallet.sign(lambda n: CommitModel(n, task_id, commitment, max_fee_price=FEE_PRICE)), Reason.OK)
    return salt


def _reveal(h: Harness, miner: int, task_id: int, salt: bytes, weights: list[int]) -> None:
    tx = partial(
        RevealModel, task_id=task_id, salt=salt, weights=IntTensor.vector(weights), max_fee_price=FEE_PRICE
    )
    h.expect(h.wallets[miner].sign(tx), Reason.OK)


def test_the_byzantine_submitter_wins_back_his_own_reward_less_fees(h: Harness) -> None:
    byzantine, sybil, honest = 0, 5, 1  # the submitter, his mining identity, an honest miner
    start = total_eth(h)
    before = {i: h.state.account(h.wallets[i].address).balance for i in (byzantine, sybil, honest)}
    task_id, features, labels, test_salt = linreg_task(h, reward=REWARD)  # y = x0 + x1, solved already
    salts = {
        sybil: _commit(h, sybil, task_id, [S, S, 0]),
        honest: _commit(h, honest, task_id, [S, S // 2, 0]),
    }
    h.now += 100
    h.expect(
        h.wallets[byzantine].sign(
            lambda n: reveal_tx(LINREG2, task_id, test_salt, features, labels, n, max_fee_price=FEE_PRICE)
        ),
        Reason.OK,
    )
    _reveal(h, honest, task_id, salts[honest], [S, S // 2, 0])
    _reveal(h, sybil, task_id, salts[sybil], [S, S, 0])
    h.now += 100
    h.expect(h.wallets[honest].sign(lambda n: FinalizeTask(n, task_id, max_fee_price=FEE_PRICE)), Reason.OK)
    task = h.state.task(task_id)
    assert task is not None and task.best_miner == h.wallets[sybil].address  # the attack "wins"
    after = {i: h.state.account(h.wallets[i].address).balance for i in before}
    paid = {i: h.paid(h.wallets[i].address) for i in before}
    assert all(paid[i] > 0 for i in before)
    # the pair gets back exactly the reward it escrowed: the attack costs it its fees and earns nothing
    assert (
        after[byzantine] + after[sybil] == before[byzantine] + before[sybil] - paid[byzantine] - paid[sybil]
    )
    assert after[honest] == before[honest] - paid[honest]
    # no ETH is minted: every fee went to the recipient
    assert h.state.account(FEE_RECIPIENT).balance == sum(paid.values())
    assert total_eth(h) == start


def test_a_model_revealed_after_the_deadline_is_refused_and_pays_nothing(h: Harness) -> None:
    task_id, features, labels, test_salt = linreg_task(h)
    salt = _commit(h, 1, task_id, [S, S, 0])
    h.now += 100
    h.expect(
        h.wallets[0].sign(
            lambda n: reveal_tx(LINREG2, task_id, test_salt, features, labels, n, max_fee_price=FEE_PRICE)
        ),
        Reason.OK,
    )
    h.now += 100  # the reveal deadline has passed
    late = partial(
        RevealModel, task_id=task_id, salt=salt, weights=IntTensor.vector([S, S, 0]), max_fee_price=FEE_PRICE
    )
    miner = h.wallets[1].address
    balance = h.state.account(miner).balance
    receipt = h.expect(h.wallets[1].sign(late), Reason.WRONG_PHASE)
    assert receipt.fee == 0 and h.state.account(miner).balance == balance
    commitment = h.state.commitment(task_id, miner)
    assert commitment is not None and commitment.status == CommitStatus.COMMITTED


@pytest.mark.parametrize(
    "chain_id, contract", [(1, DOMAIN.verifying_contract), (DOMAIN.chain_id, b"\x42" * 20)]
)
def test_a_signature_replayed_from_another_chain_or_deployment_moves_nothing(
    h: Harness, chain_id: int, contract: bytes
) -> None:
    a, b = h.wallets[0], h.wallets[1]
    other = Domain(chain_id=chain_id, verifying_contract=contract)
    raw = a.sign(lambda n: Transfer(n, b.address, ETH, max_fee_price=FEE_PRICE), domain=other, nonce=0)
    root = h.state.root
    receipt = h.one(raw)
    # here it recovers to an address with nothing, so it cannot even pay its fee
    assert receipt.sender != a.address and receipt.reason is Reason.FEE_UNPAID
    assert h.state.root == root


def test_fee_underpayment_is_refused_and_pays_nothing(h: Harness) -> None:
    a, b = h.wallets[0], h.wallets[1]
    root = h.state.root
    cheap = h.one(a.sign(lambda n: Transfer(n, b.address, 1, max_fee_price=FEE_PRICE - 1), nonce=0))
    assert cheap.reason is Reason.FEE_PRICE_TOO_LOW and cheap.fee == 0
    everything = h.state.account(a.address).balance
    broke = h.one(a.sign(lambda n: Transfer(n, b.address, everything, max_fee_price=FEE_PRICE), nonce=0))
    assert broke.reason is Reason.INSUFFICIENT_BALANCE and broke.fee == 0  # the fee leaves too little
    assert h.state.root == root and h.state.account(a.address).nonce == 0
