"""Miner helpers: fixed point, layout, commitments, the trainer; and on a running stack, an MLP
competition whose every leaderboard score is the one `local_score` computed beforehand, bit for bit."""

from __future__ import annotations

import time

import pytest
import torch

from client import miner
from client.errors import TxRejected
from client.sdk import Client
from client.txs import spec_of
from protocol import kernels
from protocol.models import Arch, validate_spec
from protocol.params import ELEMENT_MAX, FIXED_SCALE
from protocol.signing import to_checksum_address
from protocol.tensors import IntTensor, weights_hash
from protocol.testset import commitment_to_test_set, root_of_test_set
from protocol.txrules import model_commitment
from tests.client.conftest import ClientStack
from tests.support.wallets import ETH

S = FIXED_SCALE
MLP = validate_spec(Arch.MLP, 4, 8, 3)
LINREG = validate_spec(Arch.LINREG, 2, 0, 0)


def blobs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three classes around three centres in 4 dimensions, a little noise: an MLP can learn them."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n,), generator=gen)
    centres = torch.tensor([[1.0, 0.0, -1.0, 0.5], [-1.0, 1.0, 0.0, -0.5], [0.0, -1.0, 1.0, 0.0]])
    return centres[labels] + 0.45 * torch.randn(n, 4, generator=gen), labels


def test_quantize_is_the_protocols_and_clamps() -> None:
    values = torch.tensor([0.5 / S, -0.5 / S, 1.25, -3.0, 1e9], dtype=torch.float64)
    got = miner.quantize(values)
    assert got.values == (1, -1, int(1.25 * S), -3 * S, ELEMENT_MAX)
    assert got == IntTensor.from_torch(kernels.quantize(values, S, ELEMENT_MAX))
    assert miner.quantize_labels(LINREG, torch.tensor([0.5])).values == (S // 2,)
    assert miner.quantize_labels(MLP, torch.tensor([2, 0])).values == (2, 0)


def test_flatten_follows_the_specs_layout() -> None:
    w1, b1 = torch.arange(32.0).reshape(4, 8), torch.full((8,), 100.0)
    w2, b2 = torch.arange(24.0).reshape(8, 3) + 200, torch.full((3,), 300.0)
    flat = miner.flatten(MLP, [w1, b1, w2, b2])
    assert flat.shape == (MLP.param_count,)
    assert flat[:32].tolist() == list(range(32)) and flat[32:40].tolist() == [100.0] * 8
    assert flat[40:64].tolist() == [200.0 + i for i in range(24)] and flat[64:].tolist() == [300.0] * 3
    unpacked = kernels.unpack_weights(MLP, miner.quantize(flat).to_torch())
    assert torch.equal(unpacked[0], kernels.quantize(w1, S, ELEMENT_MAX))  # the kernel reads W1 as (d, h)
    with pytest.raises(ValueError, match="shapes"):
        miner.flatten(MLP, [w1.T, b1, w2, b2])
    assert miner.flatten(LINREG, [torch.tensor([1.0, 2.0]), torch.tensor(3.0)]).tolist() == [1.0, 2.0, 3.0]


def test_commitments_are_the_protocols() -> None:
    salt, miner_address, weights = b"\x05" * 32, b"\x33" * 20, [S, -S, 7]
    assert miner.commitment(9, miner_address, weights, salt) == model_commitment(
        9, miner_address, weights_hash(weights), salt
    )
    assert miner.commitment(9, to_checksum_address(miner_address), weights, salt) == miner.commitment(
        9, miner_address, weights, salt
    )
    features, labels = IntTensor.matrix([[S, 0], [0, S]]), IntTensor.vector([S, S])
    expected = commitment_to_test_set(root_of_test_set(LINREG, features, labels), 2, salt)
    assert miner.test_set_commitment(LINREG, features, labels, salt) == expected
    assert len(miner.new_salt()) == 32 and miner.new_salt() != miner.new_salt()


def test_the_trainer_fits_linreg_and_an_mlp() -> None:
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(200, 2, generator=gen, dtype=torch.float64)
    y = 2 * x[:, 0] - x[:, 1] + 0.5
    w, b = miner.train(LINREG, x, y, miner.TrainConfig(epochs=400))
    assert torch.allclose(w, torch.tensor([2.0, -1.0], dtype=torch.float64), atol=1e-3)
    assert abs(float(b) - 0.5) < 1e-3
    exact = miner.quantize_weights(LINREG, [w, b])
    assert miner.local_score(LINREG, exact, miner.quantize(x), miner.quantize_labels(LINREG, y)) == 0

    x3, y3 = blobs(300, seed=1)
    params = miner.train(MLP, x3, y3)
    assert miner.train(MLP, x3, y3)[0].equal(params[0])  # deterministic for a seed
    weights = miner.quantize_weights(MLP, params)
    features, labels = miner.quantize(x3), miner.quantize_labels(MLP, y3)
    correct = miner.local_score(MLP, weights, features, labels)
    assert correct >= 270  # 90% of the training set
    predicted = miner.predict(MLP, weights, features)
    assert correct == sum(int(p == t) for p, t in zip(predicted, labels.values, strict=True))


@pytest.mark.e2e
def test_local_scores_are_the_rollups_bit_for_bit(client_stack: ClientStack) -> None:
    """An MLP task: a trained miner, a lazy one (zero weights) and a copycat
    that commits the good miner's commitment, which it cannot reveal (it binds the miner)."""
    stack = client_stack
    train_x, train_y = blobs(300, seed=1)
    test_x, test_y = blobs(120, seed=2)
    features, labels = miner.quantize(test_x), miner.quantize_labels(MLP, test_y)
    weights = {
        "mlp_good": miner.quantize_weights(MLP, miner.train(MLP, train_x, train_y)),
        "mlp_lazy": IntTensor.vector([0] * MLP.param_count),
    }
    expected = {name: miner.local_score(MLP, w, features, labels) for name, w in weights.items()}
    assert expected["mlp_good"] > expected["mlp_lazy"]

    clients = {
        name: Client(stack.url, stack.key(name)) for name in ("mlp_submitter", *weights, "mlp_copycat")
    }
    try:
        submitter = clients["mlp_submitter"]
        salt = miner.new_salt()
        now = int(time.time())
        commit_deadline, reveal_deadline = now + 10, now + 20
        created = submitter.create_task(
            MLP, ETH, commit_deadline, reveal_deadline, miner.test_set_commitment(MLP, features, labels, salt)
        )
        task_id = submitter.wait_for_receipt(created.hash).created_id
        assert task_id is not None
        assert spec_of(submitter.task(task_id)) == MLP
        salts = {name: miner.new_salt() for name in weights}
        good_commitment = miner.commitment(
            task_id, clients["mlp_good"].address, weights["mlp_good"], salts["mlp_good"]
        )
        for name in weights:
            c = clients[name]
            commitment = miner.commitment(task_id, c.address, weights[name], salts[name])
            c.wait_for_receipt(c.commit_model(task_id, commitment).hash)
        copycat = clients["mlp_copycat"]
        copycat.wait_for_receipt(copycat.commit_model(task_id, good_commitment).hash)

        time.sleep(max(0.0, commit_deadline + 2 - time.time()))
        submitter.wait_for_receipt(submitter.reveal_test_set(task_id, salt, features, labels)[-1].hash)
        for name, w in weights.items():
            clients[name].wait_for_receipt(clients[name].reveal_model(task_id, salts[name], w).hash)
        with pytest.raises(TxRejected) as copied:
            copycat.reveal_model(task_id, salts["mlp_good"], weights["mlp_good"])
        assert copied.value.code == "hash_mismatch"

        task = submitter.task(task_id)
        scores = {s.miner: s.score for s in task.leaderboard}
        for name in weights:
            assert scores[clients[name].address] == expected[name], name  # bit for bit
        assert scores[copycat.address] is None
        assert task.best is not None and task.best.miner == clients["mlp_good"].address
    finally:
        for c in clients.values():
            c.close()
