"""One router a resource."""

from fastapi import APIRouter

from verifier.api.routes import batches, disputes, health, metrics, status

ROUTERS: list[APIRouter] = [health.router, status.router, batches.router, disputes.router, metrics.router]
