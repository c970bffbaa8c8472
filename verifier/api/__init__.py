"""The verifier's REST API: health, status, judged batches, disputes and Prometheus metrics."""

from verifier.api.app import create_app

__all__ = ["create_app"]
