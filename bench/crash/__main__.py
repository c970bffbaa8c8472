"""`python -m bench.crash`: see `bench.crash.cli`."""

from bench.crash.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
