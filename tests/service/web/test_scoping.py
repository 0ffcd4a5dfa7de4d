"""Every private route, taken from the URL map: strangers are turned away, and one runner can
neither see nor change another's data, whatever route and method they try."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.routing import Rule

from integrations.files.sources import Walk
from service.app import runtime
from service.models import Runner
from service.usecases.api_tokens import create_token
from service.usecases.feeds import feed_links
from service.usecases.import_files import import_sources
from service.usecases.runner_data import export_runner
from service.web.auth import is_public
from tests.service.web.conftest import TODAY, Member, csrf

UNSAFE_BODY = {"name": "x", "start": "2026-11-25T18:00:00+01:00", "confirm": "x", "to": "x"}
FROZEN = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Owner:
    """Runner A's things that runner B tries to reach, and what must never leak."""

    samples: dict[str, str]
    secrets: tuple[str, ...]
    feed_path: str


def private_routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every (rule, method) that needs a runner, straight from the URL map."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "static" or is_public(rule.endpoint, view):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _path(rule: Rule, samples: dict[str, str]) -> str:
    missing = sorted(set(rule.arguments) - set(samples))
    assert not missing, f"{rule.rule}: give this test a sample for {missing}"
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: samples[m[1]], rule.rule)


def _owner(app: Flask, member: Member, data_dir: Path) -> Owner:
    """Give runner A runs, a token, a feed and a plan, and note what identifies them."""
    rt = runtime(app)
    import_sources(rt.db, member.runner_id, Walk([data_dir / "sample" / "activities"]).sources())
    with rt.db.session() as db:
        runner = db.get_one(Runner, member.runner_id)
        info, token = create_token(db, runner.id, "laptop")
        links = feed_links(db, runner, rt.settings, rt.secret)
    plan = member.client.get(f"/api/v1/plan?today={TODAY}").get_json()
    uid = plan["weeks"][0]["sessions"][0]["uid"]
    feed_token = urlsplit(links.https).path.rsplit("/", 1)[1].removesuffix(".ics")
    return Owner(
        samples={"uid": uid, "token_id": str(info.id)},
        secrets=(member.email, feed_token, token),  # the uid is in the path B sent
        feed_path=urlsplit(links.https).path,
    )


def _snapshot(app: Flask, runner_id: int) -> Any:
    with runtime(app).db.session() as db:
        exported = export_runner(db, db.get_one(Runner, runner_id), FROZEN)
    exported.get("api_tokens", [{}])[0].pop("last_used_at", None)
    return exported


def test_every_private_route_turns_a_stranger_away(app: Flask) -> None:
    client = app.test_client()
    token = csrf(client, "/signin")
    samples = {"uid": "0" * 26, "token_id": "1"}
    checked = 0
    for rule, method in private_routes(app):
        response = client.open(
            _path(rule, samples),
            method=method,
            data={"csrf_token": token},
            headers={"X-CSRFToken": token},
        )
        where = f"{method} {rule.rule}"
        if rule.rule.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.get_json()["error"].startswith("unauthorized"), where
        else:
            assert response.status_code == 302, where
            assert urlsplit(response.headers["Location"]).path == "/signin", where
        checked += 1
    assert checked >= 20  # the map really was walked


def test_no_route_lets_one_runner_see_or_change_another_s_data(
    app: Flask, member: Member, other: Member, data_dir: Path
) -> None:
    owner = _owner(app, member, data_dir)
    before = _snapshot(app, member.runner_id)
    token = other.csrf()
    for rule, method in private_routes(app):
        if rule.endpoint in {"accounts.signout"}:
            continue  # would only end B's own session
        path = _path(rule, owner.samples)
        as_json = rule.rule.startswith("/api/") and method != "GET"
        response = other.client.open(
            path,
            method=method,
            json=UNSAFE_BODY if as_json else None,
            data=None if as_json else {"csrf_token": token, **UNSAFE_BODY},
            headers={"X-CSRFToken": token},
        )
        where = f"{method} {path} -> {response.status_code}"
        assert response.status_code < 500, where
        body = response.get_data(as_text=True)
        if rule.arguments:  # a missing parameter or body may be refused before the lookup
            refused_first = response.status_code == 400 and (
                method != "GET" or "is required" in body
            )
            assert response.status_code == 404 or refused_first, where
        for secret in owner.secrets:
            assert secret not in body, f"{where} shows runner A's {secret[:12]}..."
    assert _snapshot(app, member.runner_id) == before
    assert member.client.get(owner.feed_path).status_code == 200


def test_an_unknown_api_token_is_refused_even_alongside_a_valid_session(member: Member) -> None:
    response = member.client.get("/api/v1/plan", headers={"Authorization": "Bearer rs_nope"})
    assert response.status_code == 401
    assert member.client.get("/api/v1/plan").status_code == 200


def test_api_tokens_do_not_open_pages(app: Flask, member: Member) -> None:
    with runtime(app).db.session() as db:
        _info, token = create_token(db, member.runner_id, "script")
    stranger = app.test_client()
    assert (
        stranger.get("/api/v1/plan", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    page = stranger.get("/", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 302
