"""sequencer package."""
