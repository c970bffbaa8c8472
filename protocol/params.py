"""Every constant of the protocol in one place; docs/spec.md explains each one.

Changing any value here changes state roots and must be mirrored in the Solidity contracts.
Solidity twin: l1_contracts/src/ProtocolParams.sol (tests/l1/test_params_twin.py holds the two equal).
"""

from typing import Final

PROTOCOL_VERSION: Final = 1
EIP712_NAME: Final = "mlrollup"
EIP712_VERSION: Final = "1"

# --- sizes of the codec -----------------------------------------------------------------
MAX_TX_BYTES: Final = (
    120_000  # one encoded signed tx (RevealTestSet is the largest); a batch of one still fits a 128 KiB L1 tx
)
MAX_BATCH_TXS: Final = 4_096
MAX_TENSOR_ELEMENTS: Final = 32_768
MAX_TENSOR_DIM: Final = 65_535
MAX_AMOUNT: Final = 2**128 - 1  # amounts and balances are uint128 on L2
SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# --- competition models: fixed point -------------------------------------------------------
FIXED_SCALE: Final = 2**16  # S: a real v is round(v * S) in int64
ELEMENT_MAX: Final = 2**24  # B: every feature, label, weight and activation lies in [-B, B]
MAX_MODEL_DIM: Final = 4_096  # d, h <= 4096 so d * B * B < 2**62: a dot product cannot overflow int64
MAX_CLASSES: Final = 64
MAX_PARAMS: Final = 16_384
MAX_TEST_SAMPLES: Final = 65_536
# A test set is revealed in one or more RevealTestSet txs, each a run of whole chunks proven against
# the committed chunk root. A task holds at most MAX_TEST_CHUNKS chunks: its SCORE job is one step a
# chunk, so a RevealModel's job still fits one batch with room (<= MAX_JOB_STEPS).
MAX_TEST_CHUNKS: Final = 1_024
MAX_RANGE_PROOF: Final = 20  # siblings proving a run of chunks: at most two a level of 1,024 leaves

# Step sizing (docs/spec.md "Steps"): a scoring chunk re-executed on L1 must stay under 8M gas.
# Estimate: ~150 gas a multiply-accumulate in unchecked Solidity; 16,384 MACs ~ 2.5M gas, leaving
# room for weights and data as calldata (16 gas a byte) and the Merkle proofs.
MAX_STEP_MACS: Final = 16_384
MAX_CHUNK_SAMPLES: Final = 64
# What one RevealTestSet may carry: the L1 one-step prover re-encodes every value into the chunk leaves
# (about 100 gas a value) and proves and writes every chunk leaf (an SMT proof in calldata each), so
# these two caps bound the tx step's gas (bench/prover_gas.py, docs/results.md). A chunk holds k
# samples of inputs + 1 values with k * inputs <= MAX_STEP_MACS and k <= MAX_CHUNK_SAMPLES, so any
# one chunk fits in MAX_REVEAL_VALUES and every test set can be revealed.
MAX_REVEAL_CHUNKS: Final = 64
MAX_REVEAL_VALUES: Final = MAX_STEP_MACS + MAX_CHUNK_SAMPLES  # 16,448 values, labels included

# --- shared models: the paper's linear regression -------------------------------------------
SHARED_SCALE: Final = 10**7  # weights scaled by 10^7, as in the paper's contract
SHARED_X_MAX: Final = 2**20  # |x|, |y| bound (plain integers)
SHARED_W_MAX: Final = 2**36  # weights are clamped to [-W_MAX, W_MAX]
SHARED_ERR_MAX: Final = 2**24  # y - pred is clamped to [-ERR_MAX, ERR_MAX] before the update
SHARED_LR_MAX: Final = 2**16  # learning rate, scaled by 10^7 (the paper's 1e-4 is 1000)
SHARED_MAX_FEATURES: Final = 8
SHARED_CHUNK_POINTS: Final = 128  # data points a data-chunk leaf holds; one training step = one chunk
MAX_ADD_POINTS: Final = SHARED_CHUNK_POINTS  # points one AddData tx may add
MAX_JOB_STEPS: Final = 2_000  # steps one Train tx may ask for (epochs * chunks); see MAX_BATCH_STEPS

# The fraud game (docs/spec.md sections 5 and 9). A challenged proposer reveals every step hash of a
# batch in ONE L1 transaction, at about 1,276 gas a hash (bench/fraud_game.py): at most 23,491 hashes
# under a 30M-gas block, 13,125 under EIP-7825's 2^24-gas transaction cap, and 4,086 in a transaction of
# 128 KiB, the largest the public mempools of geth and reth relay. A batch whose trace is longer cannot
# be defended, so the sequencer caps steps per batch (and refuses a tx whose own steps exceed it).
MAX_BATCH_STEPS: Final = 4_000

# --- fees (docs/spec.md section 6, "Fees") -----------------------------------------------------
# A tx pays `fee_units(tx) * price` wei of L2 ETH, the price set by the deployment (the Rollup's
# `feePrice`) and capped by the `max_fee_price` the sender signs. A unit is priced like one L1 gas:
FEE_UNITS_PER_BYTE: Final = 40  # a byte of the raw tx posted in the batch (EIP-7623's floor, non-zero byte)
FEE_UNITS_PER_STEP: Final = 1_300  # a trace step: its hash in a challenged proposer's reveal (~1,276 gas)
FEE_UNITS_PER_MAC: Final = 1  # a multiply-accumulate of a job's chunks (re-executed by every node)
MAX_FEE_PRICE: Final = 2**64 - 1  # max_fee_price is a u64, so the deployment's price must fit one
