"""One router a resource; `main.py` includes each of `ROUTERS` in the app (directly: a router nested
in another costs FastAPI a second matching pass on every request)."""

from sequencer.api.routes import (
    accounts,
    batches,
    blocks,
    fees,
    health,
    metrics,
    models,
    state,
    tasks,
    txs,
    withdrawals,
)

ROUTERS = tuple(
    m.router
    for m in (txs, accounts, tasks, models, blocks, batches, state, withdrawals, fees, health, metrics)
)
