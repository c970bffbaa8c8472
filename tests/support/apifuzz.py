"""Schemathesis against a role's FastAPI app, in process (ASGI): the checks every API of the project
must pass, shared by the sequencer's and the verifier's tests.

Every generated request must get an answer that is no 5xx, has a status the operation declares and
a body matching its schema; an undeclared method gets 405 with `Allow`; a request that violates the
schema is refused. A request the schema admits may still be refused, but only for what no schema can
say (a tx that does not decode, a signature, a nonce, an unknown id: the codes of `docs/api.md`),
never with a code that says its shape is wrong (`SHAPE_CODES`): that would be a schema that does
not say what the route accepts. A long poll (`wait`) answers within its wait and `SLACK_S`; every
other request within `SLACK_S`. The waits are cut to `WAIT_CAP_S` so that a run stays short.

`CI_EXAMPLES` is the number of generated cases per operation in CI; the `slow` variants (`make
crosscheck`) take `LONG_EXAMPLES`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

from schemathesis import Case as AnyCase
from schemathesis import Response
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient, get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

Case = AnyCase[Any]

# Codes that say a request's shape is wrong: the schema must exclude every such request.
SHAPE_CODES = frozenset({"invalid_request", "invalid_hex", "malformed_json", "json_too_deep"})
SLACK_S = 5.0  # a loaded 2-core CI machine; an answer is milliseconds otherwise
WAIT_CAP_S = 0.05
CI_EXAMPLES = 12
LONG_EXAMPLES = 300
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
]


@dataclass
class Tally:
    """Cases sent and answers by status, for the figures (docs/results/reliability.md)."""

    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def count(self, status: int) -> None:
        self.cases += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _cap_wait(case: Case) -> float:
    """Cut the case's long-poll `wait` to `WAIT_CAP_S`; the wait it then asks for."""
    query: dict[str, Any] | None = case.query
    if not query or "wait" not in query:
        return 0.0
    try:
        wait = float(query["wait"])
    except (TypeError, ValueError):
        return 0.0  # not a number: refused at once
    if wait > WAIT_CAP_S:
        query["wait"] = WAIT_CAP_S
        return WAIT_CAP_S
    return max(wait, 0.0)


def check_refusal_is_not_of_shape(case: Case, response: Response) -> None:
    """A request the schema admits is never refused for its shape."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not 400 <= response.status_code < 500:
        return
    if response.status_code in (405, 413):
        return  # an undeclared method; a body over the limit (its size is the server's setting)
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(
            f"a {response.status_code} without the error shape: {response.text[:300]}"
        ) from None
    assert code not in SHAPE_CODES, (
        f"{case.method} {case.formatted_path}: a request the schema admits was refused as `{code}`: "
        f"{response.text[:400]}\n{case.as_curl_command()}"
    )


def run_case(case: Case, app: Any, tally: Tally) -> Response:
    """Send `case` to `app` (ASGI) and check the answer (module docstring)."""
    wait = _cap_wait(case)
    start = time.monotonic()
    response = case.call(app=app)
    elapsed = time.monotonic() - start
    tally.count(response.status_code)
    case.validate_response(response, checks=CHECKS)
    check_refusal_is_not_of_shape(case, response)
    assert elapsed <= wait + SLACK_S, f"{case.method} {case.formatted_path} took {elapsed:.1f} s"
    return response


# --- integer parameters at their bounds ------------------------------------------------------------

# A value for a hex path parameter, by its pattern: well-formed, naming nothing that exists.
_FILLERS = {"^0[xX][0-9a-fA-F]{64}$": "0x" + "00" * 32, "^0[xX][0-9a-fA-F]{40}$": "0x" + "00" * 20}


@dataclass(frozen=True)
class IntParam:
    """An integer path or query parameter of an operation, with the bounds its schema declares."""

    method: str
    path: str
    name: str
    location: str
    minimum: int | None
    maximum: int | None

    def url(self, value: int, schema: dict[str, Any]) -> str:
        """The operation's URL with this parameter at `value` and every other path parameter filled."""
        url = self.path
        for p in schema["paths"][self.path][self.method].get("parameters", []):
            if p["in"] == "path":
                filler = str(value) if p["name"] == self.name else _filler(p)
                url = url.replace("{" + p["name"] + "}", filler)
        return url + (f"?{self.name}={value}" if self.location == "query" else "")


def _filler(parameter: dict[str, Any]) -> str:
    s = parameter["schema"]
    return _FILLERS[s["pattern"]] if "pattern" in s else str(s.get("minimum", 0))


def integer_parameters(schema: dict[str, Any]) -> list[IntParam]:
    """Every integer path and query parameter of an OpenAPI schema (an optional one is `anyOf` int
    or null)."""
    found = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            for p in op.get("parameters", []):
                s = p["schema"]
                ints = [x for x in s.get("anyOf", [s]) if x.get("type") == "integer"]
                if ints:
                    i = ints[0]
                    found.append(
                        IntParam(method, path, p["name"], p["in"], i.get("minimum"), i.get("maximum"))
                    )
    return found


def asgi_client(app: object) -> ASGIClient:
    """A requests session on `app` in process, sharing the lifespan schemathesis's cases started
    (`with asgi_client(app) as client:`)."""
    return get_client(cast(Any, app))


def stop_apps() -> None:
    """Run the shutdown of every app lifespan the cases started (a role's app closes its node)."""
    shutdown_lifespans()


def check_integer_bounds(app: Any) -> list[IntParam]:
    """Every integer parameter of `app`'s schema declares both bounds (at most a u64), is answered
    without a 5xx at each and refused with a 422 `invalid_request` just past it; returns them."""
    spec: dict[str, Any] = app.openapi()
    params = integer_parameters(spec)
    with asgi_client(app) as client:
        for p in params:
            assert p.minimum is not None and p.maximum is not None, f"{p} has no bounds"
            assert p.maximum <= 2**64 - 1, p
            for value in (p.minimum, p.maximum):
                r = client.request(p.method.upper(), p.url(value, spec))
                assert r.status_code < 500, (p, value, r.text)
            for value in (p.minimum - 1, p.maximum + 1):
                r = client.request(p.method.upper(), p.url(value, spec))
                assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), (p, r.text)
    return params
