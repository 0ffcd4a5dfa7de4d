"""The OpenAPI document: generated from the routes, valid, and honoured by every response."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema_rs import ValidationError
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from service.app import runtime
from service.usecases.api_tokens import create_token
from service.web.params import read_params
from tests.service.web.conftest import Member

DOCUMENT = "/api/v1/openapi.json"


def _document(app: Flask) -> Any:
    response = app.test_client().get(DOCUMENT)
    assert response.status_code == 200
    return response.get_json()


def test_the_document_describes_exactly_the_documented_routes_the_app_serves(app: Flask) -> None:
    doc = _document(app)
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        "/api/v1/account",
        "/api/v1/activities",
        "/api/v1/export",
        "/api/v1/feed",
        "/api/v1/feed/rotate",
        "/api/v1/imports",
        "/api/v1/mileage",
        "/api/v1/openapi.json",
        "/api/v1/plan",
        "/api/v1/preferences",
        "/api/v1/sessions/{uid}",
        "/api/v1/sessions/{uid}/lock",
        "/api/v1/sessions/{uid}/move",
        "/api/v1/sessions/{uid}/preview",
        "/api/v1/sessions/{uid}/restore",
        "/api/v1/sessions/{uid}/skip",
        "/api/v1/sessions/{uid}/slots",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/healthz",
        "/readyz",
    }
    private = doc["paths"]["/api/v1/plan"]["get"]
    assert private["security"] == [{"cookie": []}, {"bearer": []}]
    assert "401" in private["responses"]
    assert "security" not in doc["paths"]["/healthz"]["get"]
    served = {re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()}
    assert set(doc["paths"]) <= served
    names = [p["name"] for p in doc["paths"]["/api/v1/plan"]["get"]["parameters"]]
    assert sorted(names) == ["start", "today", "weeks"]
    for ref in ("Plan", "Mileage", "Error"):
        assert ref in doc["components"]["schemas"]


def test_the_document_follows_the_parameters_the_code_parses(app: Flask) -> None:
    weeks = next(
        p
        for p in _document(app)["paths"]["/api/v1/plan"]["get"]["parameters"]
        if p["name"] == "weeks"
    )
    assert weeks["schema"] == {"type": "integer", "minimum": 1, "maximum": 52, "default": 1}
    from service.web.api import PLAN_WEEKS

    assert read_params((PLAN_WEEKS,), {}) == {"weeks": 1}


def test_the_document_passes_the_openapi_3_1_meta_schema(app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    schema.validate()  # raises on anything the OpenAPI 3.1 meta-schema forbids
    operations = {result.ok().label for result in schema.get_all_operations()}
    documented = {
        f"{method.upper()} {path}"
        for path, item in _document(app)["paths"].items()
        for method in item
        if path != DOCUMENT
    }
    # Schemathesis leaves out the document's own route; everything else is there to test.
    assert operations == documented
    assert {"GET /api/v1/plan", "POST /api/v1/imports", "PUT /api/v1/preferences"} <= operations


def test_the_meta_schema_check_is_real_and_rejects_a_broken_document(app: Flask) -> None:
    broken = _document(app)
    broken["paths"]["/api/v1/plan"]["get"]["parameters"][0]["in"] = "nowhere"
    with pytest.raises(ValidationError):
        schemathesis.openapi.from_dict(broken).validate()


def _conforms(app: Flask, mode: str, headers: dict[str, str] | None) -> None:
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    strategy = schema.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

    @given(case=strategy)
    @settings(
        max_examples=80,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def conforms(case: schemathesis.Case) -> None:
        # A write may be refused for what no schema can say (a wrong confirmation, an unknown
        # session uid, an end before a start): there a documented 400/404 is the right answer.
        excluded = [positive_data_acceptance] if case.method != "GET" else []
        if headers:  # our token rides along with any cookie it makes up: not ignored auth
            excluded.append(ignored_auth)  # (test_scoping covers callers without credentials)
        if case.path == "/api/v1/imports":  # a file part is any bytes: a generated "object"
            excluded.append(negative_data_rejection)  # is bytes on the wire, rightly accepted
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    conforms()


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_every_response_conforms_to_the_document_in_single_runner_mode(
    sample_app: Flask, mode: str
) -> None:
    _conforms(sample_app, mode, headers=None)


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_every_response_conforms_to_the_document_for_an_api_token(
    app: Flask, member: Member, mode: str
) -> None:
    with runtime(app).db.session() as db:
        _info, token = create_token(db, member.runner_id, "schemathesis")
    _conforms(app, mode, headers={"Authorization": f"Bearer {token}"})


@given(weeks=st.integers(-5, 60), today=st.dates())
@settings(max_examples=40, deadline=None, database=None)
def test_parsing_accepts_exactly_what_the_document_allows(weeks: int, today: Any) -> None:
    from service.web.api import PLAN_WEEKS, TODAY
    from service.web.params import BadParameter

    ok_weeks = 1 <= weeks <= 52
    ok_today = 1900 <= today.year <= 2099
    try:
        read_params((PLAN_WEEKS, TODAY), {"weeks": str(weeks), "today": today.isoformat()})
    except BadParameter:
        assert not (ok_weeks and ok_today)
    else:
        assert ok_weeks
        assert ok_today
