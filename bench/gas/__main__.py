"""`python -m bench.gas [--quick]`: see `bench.gas.cli`."""

from bench.gas.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
