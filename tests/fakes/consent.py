"""What the fakes' consent pages share: scope checkboxes on the page, and a runner's press of
a decision button on it over plain HTTP (the browser tests press them in Chromium)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import requests


def scope_boxes(scopes: Iterable[str], withheld: set[str]) -> str:
    """One ticked checkbox per scope (``withheld`` ones unticked), as list items."""
    return "".join(
        f'<li><label><input type="checkbox" name="scope" value="{html.escape(s)}"'
        f"{'' if s in withheld else ' checked'}> {html.escape(s)}</label></li>"
        for s in scopes
    )


def press(
    http: requests.Session, page: requests.Response, post_url: str, decision: str,
    untick: Iterable[str] = (),
) -> str:  # fmt: skip
    """Submit the consent page ``page`` with its ticked scopes (less ``untick``) and the
    ``decision`` button; the redirect's Location."""
    if page.status_code != 200:
        raise AssertionError(f"consent page refused: {page.status_code} {page.text}")
    consent = re.search(r'name="consent" value="([^"]+)"', page.text)
    assert consent is not None, page.text
    dropped = set(untick)
    ticked = [
        html.unescape(s) for s in re.findall(r'name="scope" value="([^"]+)" checked', page.text)
    ]
    form = [("consent", consent[1]), *(("scope", s) for s in ticked if s not in dropped)]
    form.append(("decision", decision))
    answer = http.post(post_url, data=form, timeout=10, allow_redirects=False)
    if answer.status_code != 302:
        raise AssertionError(f"consent refused: {answer.status_code} {answer.text}")
    return str(answer.headers["Location"])
