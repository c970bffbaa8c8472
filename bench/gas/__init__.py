"""`mlrollup bench gas`: the L1 gas of the paper's workload and of digits competitions, purely on L1
(the on-chain twins) against the rollup (L2 txs executed by `apply_batch`, their batches posted to
the real `Rollup` contract), where the rollup's bytes go, what a dispute (a whole fraud proof) costs
by step kind, and the report `docs/results/gas.md`.

One module per section (`table1`, `competitions`, `where_bytes`, `disputes`), the shared rules in `floors`
(the calldata floors, prices, the share-by-bytes accounting, the linear extrapolation), the
in-process L1 that posts batches in `l1`, and the report with its plots in `report`.
"""
