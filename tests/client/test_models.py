"""The SDK's response models against a running sequencer's live `/openapi.json`: every model has the
fields of its component, required where the schema requires them, so a change of the API that the
SDK does not follow fails here."""

from __future__ import annotations

import httpx
import pytest

from client.models import SCHEMA_NAMES
from tests.client.conftest import ClientStack

pytestmark = pytest.mark.e2e


def test_every_model_matches_the_live_openapi_schema(client_stack: ClientStack) -> None:
    schema = httpx.get(client_stack.url + "/openapi.json", timeout=30).json()
    components = schema["components"]["schemas"]
    for model, name in SCHEMA_NAMES.items():
        assert name in components, f"{model.__name__}: the API has no component {name}"
        component = components[name]
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        assert set(fields) == set(component.get("properties", {})), f"{model.__name__} vs {name}"
        required = {n for n, f in fields.items() if f.is_required()}
        assert required == set(component.get("required", [])), f"{model.__name__} vs {name}: required"


def test_every_response_component_has_a_model(client_stack: ClientStack) -> None:
    """A component the API answers with and the SDK does not parse is a missing model."""
    schema = httpx.get(client_stack.url + "/openapi.json", timeout=30).json()
    answered: set[str] = set()
    for methods in schema["paths"].values():
        for operation in methods.values():
            for response in operation.get("responses", {}).values():
                ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
                if ref:
                    answered.add(ref.rsplit("/", 1)[-1])
    nested = {"DepositRange", "L1Out", "BestOut", "StandingOut", "ReceiptOut", "RootRef", "StepOut"}
    nested |= {"ErrorDetail"}
    assert answered - {"HTTPValidationError"} <= set(SCHEMA_NAMES.values())
    assert nested <= set(SCHEMA_NAMES.values())
