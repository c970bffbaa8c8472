"""The composition root: the `mlrollup` command runs each role (devnet, deploy, sequencer, ...).

Roles never import each other; only this package imports them all, to dispatch to their `main`.
"""
