"""The devnet's funded development accounts, from the public test mnemonic of anvil and hardhat."""

from __future__ import annotations

from dataclasses import dataclass

from eth_tester.backends.pyevm.main import get_account_keys_from_mnemonic
from eth_utils.address import to_checksum_address

# The public test mnemonic of anvil and hardhat, with their derivation path: account 0 is
# 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266. Anyone can spend from these keys on a public chain.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_HD_PATH = "m/44'/60'/0'/0"


@dataclass(frozen=True)
class DevAccount:
    """A funded development account: checksum address and 0x-hex private key."""

    address: str
    private_key: str


def dev_accounts(count: int = 10) -> list[DevAccount]:
    """The devnet's first `count` accounts, from the public test mnemonic (anvil's and hardhat's).

    The same in every process, so a deploy script can use them without asking the devnet. Public
    keys: never send real funds to them."""
    keys = get_account_keys_from_mnemonic(DEV_MNEMONIC, quantity=count, hd_path=DEV_HD_PATH)
    return [
        DevAccount(to_checksum_address(key.public_key.to_canonical_address()), key.to_hex()) for key in keys
    ]
