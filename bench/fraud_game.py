"""Gas of the fraud-proof game's transactions (Rollup, docs/spec.md section 9), apart from the prover.

On eth-tester/py-evm (Prague) with the committed artifacts and the real one-step prover deployed:
`challenge`, `revealSteps` for traces of several lengths (its cost per step hash, and from it the
largest trace one reveal can carry under a 30M-gas block and under EIP-7825's 2^24 transaction cap),
`timeout` both ways, `proveBadLastStep`, and `withdrawPayout`. The gas of `proveFraud` per step kind,
prover included, is printed by `pytest -s tests/l1/test_fraud_game_steps.py`, and a whole dispute's
(challenge, reveal, proof) by step kind is in `mlrollup bench gas` (`bench/gas/disputes.py`).

Run: `python -m bench.fraud_game [--sizes 1,1000,4000,16000]` (`--quick`: traces of 1 and 100 hashes).
"""

from __future__ import annotations

import argparse
import time

from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from bench.fees import FEES
from l1_contracts.bindings import Bridge, Rollup, UnlockedSender, append_batch_gas
from l1_contracts.deploy import deploy
from protocol.codec import encode_batch
from protocol.fraud import LastStepProof
from protocol.hashing import keccak, merkle_proof, merkle_root
from protocol.signing import to_checksum_address

BLOCK_GAS = 30_000_000
TX_GAS_CAP_7825 = 2**24
MEMPOOL_TX_BYTES = 128 * 1024  # geth's and reth's default largest transaction in the public mempool


class Chain:
    """A fresh chain with a deployment whose windows are short, a bonded proposer and a challenger
    (accounts 0-2; the others, funded, are free for deposits on the deployment's `bridge`)."""

    def __init__(self) -> None:
        params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": 1_000_000_000})
        self.tester = EthereumTester(PyEVMBackend(genesis_parameters=params))
        self.w3 = Web3(EthereumTesterProvider(self.tester))
        accounts = self.w3.eth.accounts
        self.owner, self.proposer, self.challenger = (UnlockedSender(a) for a in accounts[:3])
        d = deploy(  # the fee schedule the scenario's batches run with (bench.fees.FEES)
            self.w3,
            self.owner,
            bond=10**18,
            challenge_window=10**6,
            response_window=100,
            proof_window=100,
            fee_price=FEES.price,
            fee_recipient=to_checksum_address(FEES.recipient),
        )
        self.deployment = d
        self.rollup = Rollup(self.w3, d.rollup)
        self.bridge = Bridge(self.w3, d.bridge)
        self.rollup.bond(self.proposer)

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> None:
        self.tester.time_travel(self.now() + seconds)
        self.tester.mine_blocks(1)

    def post(self, leaves: list[bytes], post_root: bytes) -> tuple[int, bytes]:
        r = self.rollup
        index = r.batch_count()
        data = encode_batch(self.now(), [b"\x01\x02"])
        r.append_batch(
            self.proposer, data, r.last_root(), post_root, merkle_root(leaves), 0, gas=append_batch_gas(data)
        )
        return index, data


def _leaves(n: int, tag: int) -> list[bytes]:
    return [keccak(tag.to_bytes(4, "big") + i.to_bytes(4, "big")) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fraud_game", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,1000,4000,16000", help="trace lengths to reveal")
    parser.add_argument(
        "--quick", action="store_true", help="traces of 1 and 100 hashes (a smoke run, seconds)"
    )
    args = parser.parse_args(argv)
    sizes = [1, 100] if args.quick else [int(x) for x in args.sizes.split(",")]
    chain = Chain()
    r = chain.rollup
    rows: list[tuple[str, int]] = []
    reveals: list[tuple[int, int]] = []
    for tag, n in enumerate(sizes):
        leaves = _leaves(n, tag)
        index, _ = chain.post(leaves, keccak(b"post" + bytes([tag])))
        receipt = r.challenge(chain.challenger, index)
        if tag == 0:
            rows.append(("challenge", int(receipt["gasUsed"])))
        started = time.perf_counter()
        receipt = r.reveal_steps(chain.proposer, index, leaves)
        seconds = time.perf_counter() - started
        reveals.append((n, int(receipt["gasUsed"])))
        print(f"revealSteps of {n:>6} hashes: {int(receipt['gasUsed']):>11,} gas ({seconds:.1f} s on py-evm)")
        chain.advance(100)
        receipt = r.settle_timeout(chain.challenger, index)  # the challenger did not prove: proposer wins
        if tag == 0:
            rows.append(("timeout, no proof (proposer wins)", int(receipt["gasUsed"])))
    # the proposer does not reveal: the challenger wins, one batch rolled back
    index, _ = chain.post(_leaves(1, 99), keccak(b"silent"))
    r.challenge(chain.challenger, index)
    chain.advance(100)
    receipt = r.settle_timeout(chain.owner, index)
    rows.append(("timeout, no reveal (challenger wins, 1 batch deleted)", int(receipt["gasUsed"])))
    r.bond(chain.proposer)
    # proveBadLastStep on a 1,000-leaf trace, one batch rolled back
    leaves = _leaves(1000, 77)
    index, data = chain.post(leaves, keccak(b"bad"))
    r.challenge(chain.challenger, index)
    r.reveal_steps(chain.proposer, index, leaves)
    tx_root = keccak(b"\x01\x02")  # one tx: the tx root is its hash
    proof = LastStepProof(
        1000, leaves[-1], tuple(merkle_proof(leaves, 999)), int.from_bytes(data[1:9], "big"), 1, tx_root, b""
    )
    receipt = r.prove_bad_last_step(chain.challenger, index, proof)
    rows.append(("proveBadLastStep (1,000 steps, 1 batch deleted)", int(receipt["gasUsed"])))
    receipt = r.withdraw_payout(chain.challenger)
    rows.append(("withdrawPayout", int(receipt["gasUsed"])))
    for name, gas in rows:
        print(f"{name:<56} {gas:>9,}")
    (n0, g0), (n1, g1) = reveals[0], reveals[-1]
    per_hash = (g1 - g0) / (n1 - n0)
    fixed = g0 - per_hash * n0
    print(f"revealSteps: {fixed:,.0f} gas + {per_hash:,.1f} gas a step hash (fit over {n0}..{n1})")
    print(f"largest reveal under a {BLOCK_GAS:,}-gas block: {int((BLOCK_GAS - fixed) / per_hash):,} hashes")
    print(
        f"largest reveal under EIP-7825's {TX_GAS_CAP_7825:,}-gas tx cap: "
        f"{int((TX_GAS_CAP_7825 - fixed) / per_hash):,}"
    )
    abi = 4 + 3 * 32  # selector, batchIndex, offset, length
    print(
        f"largest reveal under a {MEMPOOL_TX_BYTES:,}-byte mempool tx: "
        f"{(MEMPOOL_TX_BYTES - abi - 200) // 32:,}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
