"""l1_contracts package."""
