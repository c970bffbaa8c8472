"""`python -m bench.load`: see `bench.load.cli`."""

from bench.load.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
