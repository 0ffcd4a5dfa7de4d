"""The subscribe page: every link to the private feed, its QR code, and rotating the address."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import lxml.html
import segno
from flask import Flask
from lxml.html import HtmlElement

from tests.service.web.conftest import Member, csrf

TOKEN_URL = re.compile(r"/feeds/([a-z2-7]{32})\.ics")


def _page(member: Member) -> tuple[HtmlElement, str]:
    response = member.client.get("/subscribe")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    return lxml.html.fromstring(html), html


def _feed_url(member: Member) -> str:
    page, _html = _page(member)
    url: str = page.get_element_by_id("feed-url").get("value")
    return url


def test_the_page_shows_every_way_to_subscribe(member: Member) -> None:
    page, _html = _page(member)
    https = page.get_element_by_id("feed-url").get("value")
    assert TOKEN_URL.search(https)
    assert https.startswith("http")
    webcal = "webcal://" + https.split("://", 1)[1]
    assert page.get_element_by_id("subscribe-webcal").get("href") == webcal
    google = page.get_element_by_id("subscribe-google").get("href")
    assert google == "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe="")
    busy = page.get_element_by_id("busy-url").get("value")
    assert busy == https.removesuffix(".ics") + "-busy.ics"
    busy_webcal = page.get_element_by_id("subscribe-busy-webcal").get("href")
    assert busy_webcal == "webcal://" + busy.split("://", 1)[1]
    assert page.get_element_by_id("feed-url").get("readonly") is not None


def test_the_links_lead_to_the_runner_s_live_feeds(member: Member) -> None:
    page, _html = _page(member)
    for field in ("feed-url", "busy-url"):
        path = urlsplit(page.get_element_by_id(field).get("value")).path
        response = member.client.get(path)
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"


def test_the_qr_code_encodes_the_webcal_link(member: Member) -> None:
    page, html = _page(member)
    webcal = page.get_element_by_id("subscribe-webcal").get("href")
    expected = segno.make(webcal, error="m").svg_inline(scale=4, border=4, dark="#000")
    modules = re.search(r'class="qrline"[^>]* d="([^"]+)"', expected)
    assert modules is not None
    svgs = re.findall(r"<svg [^>]*class=\"qr\".*?</svg>", html, flags=re.S)
    assert len(svgs) == 1
    assert f'd="{modules[1]}"' in svgs[0]
    assert 'role="img"' in svgs[0]
    assert "aria-label=" in svgs[0]


def test_the_page_explains_how_each_calendar_app_refreshes(member: Member) -> None:
    text = " ".join(_page(member)[0].text_content().split())
    assert "every 8 to 24 hours and ignores refresh hints" in text
    assert "phone apps cannot add a feed by URL" in text
    assert "Apple Calendar lets you choose" in text
    assert "Outlook refreshes subscribed calendars about every 3 hours" in text


def test_the_copy_buttons_are_hidden_until_javascript_shows_them(member: Member) -> None:
    page, _html = _page(member)
    buttons = page.xpath("//button[@data-copy]")
    assert {b.get("data-copy") for b in buttons} == {"feed-url", "busy-url"}
    assert all(b.get("hidden") is not None for b in buttons)
    assert member.client.get("/static/copy.js").status_code == 200


def test_the_page_is_kept_out_of_caches_referrers_and_search_engines(member: Member) -> None:
    response = member.client.get("/subscribe")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_rotating_kills_the_old_address_and_the_page_shows_the_new_one(member: Member) -> None:
    old = _feed_url(member)
    old_busy = old.removesuffix(".ics") + "-busy.ics"
    response = member.post("/subscribe/rotate")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/subscribe"
    page = member.client.get("/subscribe").get_data(as_text=True)
    assert "new address" in page
    new = _feed_url(member)
    assert new != old
    assert old not in page
    assert member.client.get(urlsplit(old).path).status_code == 404
    assert member.client.get(urlsplit(old_busy).path).status_code == 404
    assert member.client.get(urlsplit(new).path).status_code == 200


def test_rotating_without_a_csrf_token_is_refused_and_changes_nothing(member: Member) -> None:
    old = _feed_url(member)
    assert member.client.post("/subscribe/rotate").status_code == 400
    assert _feed_url(member) == old


def test_a_runner_never_sees_another_runner_s_feed(member: Member, other: Member) -> None:
    mine = TOKEN_URL.search(_feed_url(member))
    assert mine is not None
    _page_b, html_b = _page(other)
    assert mine[1] not in html_b
    theirs = TOKEN_URL.search(_feed_url(other))
    assert theirs is not None
    assert theirs[1] != mine[1]


def test_a_runner_rotating_leaves_another_runner_s_feed_alone(
    member: Member, other: Member
) -> None:
    theirs = _feed_url(other)
    assert member.post("/subscribe/rotate").status_code == 302
    assert _feed_url(other) == theirs
    assert member.client.get(urlsplit(theirs).path).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    for response in (
        client.get("/subscribe"),
        client.post("/subscribe/rotate", data={"csrf_token": csrf(client)}),
    ):
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/signin"


def test_single_runner_mode_shows_the_page_without_signing_in(single_app: Flask) -> None:
    response = single_app.test_client().get("/subscribe")
    assert response.status_code == 200
    assert TOKEN_URL.search(response.get_data(as_text=True))
