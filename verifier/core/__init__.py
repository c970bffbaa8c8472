"""Settings, errors and metrics of the verifier."""
