"""The running verifier: its database, its L1 connection, the watcher and the game, and the loop.

`VerifierNode.open()` migrates the database; `connect()` reads the deployment from L1 (the chain id,
the Rollup's domain and genesis, the game's parameters) and builds the reader, the watcher and the
game; `tick()` is one round (poll L1, judge what it confirmed, and once caught up play the earliest
wrong batch); `run()` loops until stopped, retrying failures with backoff. `status` is what the API
reports; it is replaced whole after each round, so readers on other threads see a consistent one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from web3 import HTTPProvider, Web3

from l1_contracts.bindings.bridge import Bridge
from l1_contracts.bindings.rollup import Rollup
from l1_contracts.bindings.tx import KeySender, Sender
from l1_contracts.reader import DomainMismatch, L1Reader, deployment_domain, deployment_fees
from protocol.fees import FeeScheduleError
from protocol.state import State
from service.loop import Loop
from verifier.core.config import Settings
from verifier.core.errors import StartupError
from verifier.core.metrics import Metrics
from verifier.db.session import Database
from verifier.db.store import Store
from verifier.game import DisputeGame, GameParams
from verifier.watcher import Watcher, hx

log = logging.getLogger("verifier")

MAX_BACKOFF_S = 30.0


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """The loop's view after its last round."""

    connected: bool = False
    caught_up: bool = False
    l1_block: int | None = None  # the last block scanned
    batch_count: int = 0  # live batches on L1 (as of the last block scanned)
    finalized_count: int = 0
    rounds: int = 0
    failures: int = 0  # rounds failed in a row
    last_error: str | None = None
    halted: str | None = None  # a problem retrying cannot fix; the loop stopped


def connect_l1(url: str, timeout: float = 30.0) -> Web3:
    """A web3 client of the L1 JSON-RPC endpoint at `url`."""
    return Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))


class VerifierNode:
    """One verifier: `open()`, then `tick()` or `run()`; `close()` at the end."""

    def __init__(
        self,
        settings: Settings,
        *,
        w3: Web3 | None = None,
        sender: Sender | None = None,
        database: Database | None = None,
    ) -> None:
        """`w3` and `sender` replace the ones the settings give (tests: an in-process chain and an
        unlocked account); without either the key in the settings signs, and without a key the
        verifier only watches."""
        self.settings = settings
        self.w3 = w3 or connect_l1(settings.l1_rpc_url)
        key = settings.challenger_key
        self.sender = sender or (None if key is None else KeySender.from_hex(key.get_secret_value()))
        self.db = database or Database.connect(settings.database_url)
        self.store = Store(self.db)
        self.metrics = Metrics()
        self.rollup: Rollup | None = None
        self.watcher: Watcher | None = None
        self.game: DisputeGame | None = None
        self.chain_id: int | None = None
        self.status = NodeStatus()
        self._opened = False
        self._loop = Loop("verifier-loop", self.run)
        self._stop = self._loop.stopping

    @property
    def address(self) -> str | None:
        """The challenger's address (None: watching only)."""
        return None if self.sender is None else self.sender.address

    # --- start -----------------------------------------------------------------------------------------

    def open(self) -> None:
        """Migrate the database to head and load the counters from it."""
        if self._opened:
            return
        self.store.migrate()
        s = self.store
        self.metrics.load(s.verdict_counts(), s.dispute_counts(), s.gas_spent(), s.payouts_total())
        self._opened = True

    def connect(self) -> None:
        """Read the deployment from L1 and build the reader, the watcher and the game. `StartupError`
        for what retrying cannot fix; connection errors propagate (the loop retries them)."""
        self.open()
        chain_id = int(self.w3.eth.chain_id)
        deployment = self.settings.deployment
        if deployment is not None and deployment.chain_id != chain_id:
            raise StartupError(
                f"the deployment file is for chain {deployment.chain_id}, but the L1 at "
                f"{self.settings.l1_rpc_url} is chain {chain_id}: point --l1-rpc-url at that chain"
            )
        address = self.settings.rollup
        if not self.w3.eth.get_code(Web3.to_checksum_address(address)):
            raise StartupError(
                f"no contract at the Rollup address {address} on the L1 at {self.settings.l1_rpc_url} "
                f"(chain {chain_id}): deploy it there, or give the right --deployment-file"
            )
        rollup = Rollup(self.w3, address, timeout=self.settings.l1_timeout_s)
        try:
            domain = deployment_domain(rollup)
            fees = deployment_fees(rollup)  # the schedule every batch's txs paid by
        except (DomainMismatch, FeeScheduleError) as exc:
            raise StartupError(str(exc)) from None
        if rollup.genesis_root() != State().root:
            raise StartupError(
                f"the Rollup's genesis root {hx(rollup.genesis_root())} is not the empty state's: this "
                "verifier derives from the empty genesis state only"
            )
        self.store.check_deployment(chain_id, address)
        bridge = Bridge(self.w3, deployment.bridge if deployment is not None else rollup.bridge_address())
        reader = L1Reader(
            rollup, bridge, from_block=self.settings.scan_from, confirmations=self.settings.confirmations
        )
        params = GameParams.of(rollup)
        self.rollup = rollup
        self.chain_id = chain_id
        self.watcher = Watcher(reader, self.store, domain, fees, metrics=self.metrics)
        self.game = DisputeGame(
            rollup,
            self.store,
            self.sender,
            params,
            metrics=self.metrics,
            auto_withdraw=self.settings.auto_withdraw,
        )
        self.status = replace(self.status, connected=True)
        log.info(
            "verifier following the Rollup %s on chain %d from block %d, %d confirmations; %s",
            address,
            chain_id,
            self.settings.scan_from,
            self.settings.confirmations,
            f"challenger {self.address} (bond {params.challenger_bond} wei)"
            if self.sender is not None
            else "no challenger key: watching only",
        )

    # --- rounds ----------------------------------------------------------------------------------------

    def tick(self) -> NodeStatus:
        """One round: connect if needed, poll L1 and judge, then (caught up) play the game."""
        if self.watcher is None or self.game is None:
            self.connect()
        assert self.watcher is not None and self.game is not None
        result = self.watcher.poll()
        if result.caught_up:
            # act on a view that reaches L1's confirmed head only: a verifier catching up on history
            # would otherwise challenge batches that later blocks already deleted
            self.game.step(self.watcher.first_fraud())
        self.status = replace(
            self.status,
            connected=True,
            caught_up=result.caught_up,
            l1_block=result.safe_block,
            batch_count=result.batch_count,
            finalized_count=result.finalized_count,
            rounds=self.status.rounds + 1,
            failures=0,
            last_error=None,
        )
        return self.status

    def run(self) -> None:
        """Round after round until `stop()`: the poll interval between rounds once caught up, none
        while catching up, and exponential backoff after failures."""
        interval = self.settings.poll_interval_s
        while not self._stop.is_set():
            try:
                status = self.tick()
                wait = interval if status.caught_up else 0.0
            except StartupError as exc:
                self.status = replace(self.status, halted=str(exc), last_error=str(exc))
                log.error("verifier stopped: %s", exc)
                return
            except Exception as exc:
                failures = self.status.failures + 1
                message = f"{type(exc).__name__}: {exc}"
                self.status = replace(self.status, failures=failures, last_error=message, caught_up=False)
                if failures == 1:
                    log.exception("verifier round failed; retrying")
                else:
                    log.warning("verifier round failed %d times in a row: %s", failures, message)
                wait = min(MAX_BACKOFF_S, interval * 2 ** min(failures, 10))
            self._stop.wait(wait)

    def start(self) -> None:
        """Run the loop on a daemon thread."""
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the loop (a round in progress finishes first: a transaction is never left half-recorded)."""
        if not self._loop.stop(timeout):
            log.warning("the verifier loop did not stop within %.0f s", timeout)

    @property
    def alive(self) -> bool:
        return self._loop.alive

    def close(self) -> None:
        self.stop()
        self.db.dispose()

    # --- waiting (tests and embedding) -------------------------------------------------------------------

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Whether the loop caught up within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status.caught_up:
                return True
            time.sleep(0.05)
        return self.status.caught_up
