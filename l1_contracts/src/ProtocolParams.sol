// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Twin: protocol/params.py
// Every constant of the protocol, once, for every contract (docs/spec.md explains each one). Each
// line mirrors the constant of the same name in protocol/params.py, bit for bit:
// tests/l1/test_params_twin.py parses this file, compares every value with Python's, and fails when
// one drifts, when one is missing, or when another .sol file declares a constant of one of these
// names. The signed ones are int256 because the kernels compare signed values with them.

uint256 constant PROTOCOL_VERSION = 1;
// the EIP-712 domain of L2 txs: name EIP712_NAME and version EIP712_VERSION, kept as their hashes
// (the domain separator's words; a hash of a string constant would be computed at run time)
bytes32 constant EIP712_NAME_HASH = keccak256("mlrollup");
bytes32 constant EIP712_VERSION_HASH = keccak256("1");

// --- sizes of the codec -----------------------------------------------------------------------
uint256 constant MAX_TX_BYTES = 120_000;
uint256 constant MAX_BATCH_TXS = 4_096;
uint256 constant MAX_TENSOR_ELEMENTS = 32_768;
uint256 constant MAX_TENSOR_DIM = 65_535;
uint256 constant MAX_AMOUNT = 2 ** 128 - 1; // amounts and balances are uint128 on L2
uint256 constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

// --- competition models: fixed point ------------------------------------------------------------
int256 constant FIXED_SCALE = 2 ** 16; // S
int256 constant ELEMENT_MAX = 2 ** 24; // B: every feature, label, weight and activation lies in [-B, B]
uint256 constant MAX_MODEL_DIM = 4_096;
uint256 constant MAX_CLASSES = 64;
uint256 constant MAX_PARAMS = 16_384;
uint256 constant MAX_TEST_SAMPLES = 65_536;
uint256 constant MAX_TEST_CHUNKS = 1_024;
uint256 constant MAX_RANGE_PROOF = 20;
uint256 constant MAX_STEP_MACS = 16_384;
uint256 constant MAX_CHUNK_SAMPLES = 64;
uint256 constant MAX_REVEAL_CHUNKS = 64;
uint256 constant MAX_REVEAL_VALUES = MAX_STEP_MACS + MAX_CHUNK_SAMPLES; // 16,448 values, labels included

// --- shared models: the paper's linear regression -------------------------------------------------
int256 constant SHARED_SCALE = 10 ** 7;
int256 constant SHARED_X_MAX = 2 ** 20;
int256 constant SHARED_W_MAX = 2 ** 36;
int256 constant SHARED_ERR_MAX = 2 ** 24;
uint256 constant SHARED_LR_MAX = 2 ** 16;
uint256 constant SHARED_MAX_FEATURES = 8;
uint256 constant SHARED_CHUNK_POINTS = 128;
uint256 constant MAX_ADD_POINTS = SHARED_CHUNK_POINTS;
uint256 constant MAX_JOB_STEPS = 2_000;

// --- the fraud game -----------------------------------------------------------------------------
uint256 constant MAX_BATCH_STEPS = 4_000;

// --- fees ---------------------------------------------------------------------------------------
uint256 constant FEE_UNITS_PER_BYTE = 40;
uint256 constant FEE_UNITS_PER_STEP = 1_300;
uint256 constant FEE_UNITS_PER_MAC = 1;
uint256 constant MAX_FEE_PRICE = 2 ** 64 - 1;
