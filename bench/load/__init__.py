"""The load benchmark (`python -m bench.load`): a bounded load of every tx type through the SDK's
`AsyncClient` against a stack, with throughput, latencies, errors and the service's memory.
`bench.load.cli` is the command."""
