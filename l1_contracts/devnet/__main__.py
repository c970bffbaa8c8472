"""`python -m l1_contracts.devnet`: the same command as `mlrollup devnet` (`cli.main`)."""

from l1_contracts.devnet.cli import main

raise SystemExit(main())
