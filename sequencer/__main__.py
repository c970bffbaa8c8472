"""`python -m sequencer`: see `sequencer.cli`."""

from sequencer.cli import main

if __name__ == "__main__":
    main()
