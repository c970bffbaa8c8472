"""The HTTP API: routes under /v1, one module a resource in `routes/`."""
