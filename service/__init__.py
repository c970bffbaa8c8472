"""Plumbing shared by the roles' servers (as the OP Stack's op-service is for its programs).

`jsonlimits` refuses over-large and over-deep JSON bodies before anything parses them, `asgi` applies
it to every request of an ASGI (FastAPI) app, and `recursion` keeps the interpreter's recursion
limit low enough that a parse can never overflow the C stack. This package imports nothing of the
project, so every role may use it.
"""
