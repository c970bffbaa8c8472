"""The paper's experiment (Table I of *Solutions for decentralized AI*), the one copy of its data.

Nine points of one feature, a 2-parameter linear regression from the weights (10, 2) scaled by
10^7 (`params.FIXED_SCALE`), learning rate 10^-4 (1,000 in fixed point), per-sample SGD; the
weights after 1 and after 2,000 epochs, as the paper's Solidity contract computes them (and
`bench.paper` reproduces to the bit). The demo, the benchmarks and the tests all read them here.
"""

from __future__ import annotations

PAPER_X: tuple[int, ...] = (0, 20, 50, 10, 70, 90, 20, 30, 10)
PAPER_Y: tuple[int, ...] = (70, 80, 40, 90, 20, 0, 40, 60, 90)
PAPER_INITIAL: tuple[int, int] = (10 * 10**7, 2 * 10**7)
PAPER_LEARNING_RATE = 1_000
PAPER_EPOCHS = 2_000
# (weight, bias) after this many epochs: the paper's Table I.
PAPER_WEIGHTS: dict[int, tuple[int, int]] = {1: (100_262_000, 3_420_000), 2_000: (709_424_000, -7_180_000)}
