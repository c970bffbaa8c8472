"""The crash-safety harness (`python -m bench.crash`): SIGKILLs the roles of a local stack at chosen
points under a bounded load, restarts them, and checks that nothing acknowledged was lost, that the
state is L1's, and that nothing was left behind. `bench.crash.cli` is the command."""
