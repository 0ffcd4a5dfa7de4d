"""The subscribe page: every way into the runner's private feed, and rotating its address."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from service.app import runtime
from service.usecases.feeds import feed_links, rotate_feed
from service.web.auth import current_runner
from service.web.charts import qr_svg
from service.web.forms import ConfirmForm
from service.web.pages import PRIVATE

bp = Blueprint("subscribe", __name__)

QR_TITLE = "QR code of your calendar feed's subscribe link"


@bp.get("/subscribe")
def subscribe() -> ResponseReturnValue:
    """The feed's https, webcal and Google links, a QR code, the busy feed and refresh notes."""
    rt = runtime()
    with rt.db.session() as db:
        links = feed_links(db, current_runner(db), rt.settings, rt.secret)
    body = render_template(
        "subscribe.html",
        links=links,
        qr=qr_svg(links.webcal, title=QR_TITLE),
        form=ConfirmForm(),
    )
    return body, 200, PRIVATE


@bp.post("/subscribe/rotate")
def rotate() -> ResponseReturnValue:
    """A new feed address; the old one stops working at once, so calendars must re-subscribe."""
    rt = runtime()  # the CSRF token was checked before the view ran (service.web.auth)
    with rt.db.session() as db:
        rotate_feed(db, current_runner(db), rt.secret)
    flash(
        "Your feed has a new address. The old one no longer works: subscribe again "
        "with the new address below, and remove the old subscription from your calendars."
    )
    return redirect(url_for("subscribe.subscribe"))
