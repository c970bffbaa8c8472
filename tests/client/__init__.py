"""Tests of the SDK and the user CLI (client/)."""
