"""In-process L1 for contract tests: web3 over eth-tester/py-evm (Prague), large block gas limit."""

from __future__ import annotations

from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

BLOCK_GAS_LIMIT = 1_000_000_000


def make_w3(gas_limit: int = BLOCK_GAS_LIMIT) -> tuple[Web3, EthereumTester]:
    """A fresh chain with ten funded, unlocked accounts (`w3.eth.accounts`)."""
    params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": gas_limit})
    tester = EthereumTester(PyEVMBackend(genesis_parameters=params))
    w3 = Web3(EthereumTesterProvider(tester))
    w3.eth.default_account = w3.eth.accounts[0]
    return w3, tester
