"""Settings, errors and metrics of the sequencer."""
