"""`runstrength strava`: the application's webhook subscription at Strava (one per app)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from integrations.strava.webhooks import StravaSubscriptions
    from service.app import Runtime
    from service.cli import State

T = TypeVar("T")


@click.group()
def strava() -> None:
    """Strava's webhook subscription: subscribe, list, unsubscribe."""


@strava.command()
@click.option("--callback", required=True, help="Public URL of /webhooks/strava on this server.")
@click.pass_obj
def subscribe(state: State, callback: str) -> None:
    """Ask Strava to push activity events to CALLBACK (Strava checks it with a GET first)."""
    rt = state.runtime()
    if not rt.settings.strava_webhook_verify_token:
        raise click.ClickException("set RUNSTRENGTH_STRAVA_WEBHOOK_VERIFY_TOKEN first")
    subscription_id = _call(
        lambda s: s.create(callback, rt.settings.strava_webhook_verify_token), rt
    )
    _remember(rt, subscription_id)
    click.echo(f"subscribed: {subscription_id} -> {callback}")


@strava.command()
@click.pass_obj
def subscriptions(state: State) -> None:
    """List the application's subscription ids (Strava allows one)."""
    ids = _call(lambda s: s.list(), state.runtime())
    click.echo("\n".join(map(str, ids)) if ids else "no subscription")


@strava.command()
@click.argument("subscription_id", type=click.IntRange(1))
@click.pass_obj
def unsubscribe(state: State, subscription_id: int) -> None:
    """Delete a subscription; Strava stops pushing events."""
    rt = state.runtime()
    _call(lambda s: s.delete(subscription_id), rt)
    _remember(rt, None)
    click.echo(f"unsubscribed: {subscription_id}")


def _call(work: Callable[[StravaSubscriptions], T], rt: Runtime) -> T:
    from integrations.errors import IntegrationError
    from integrations.http import new_session
    from integrations.strava.webhooks import StravaSubscriptions
    from service.usecases.strava_connection import endpoints

    settings = rt.settings
    if not (settings.strava_client_id and settings.strava_client_secret):
        raise click.ClickException(
            "set RUNSTRENGTH_STRAVA_CLIENT_ID and RUNSTRENGTH_STRAVA_CLIENT_SECRET first"
        )
    with new_session() as session:
        client = StravaSubscriptions(
            settings.strava_client_id, settings.strava_client_secret, endpoints(settings), session
        )
        try:
            return work(client)
        except IntegrationError as exc:
            raise click.ClickException(f"Strava: {exc}") from exc


def _remember(rt: Runtime, subscription_id: int | None) -> None:
    """Webhooks accept events carrying this id (kept in the queue's store)."""
    from service.jobs import make_queue
    from service.queue_store import QueueStore

    QueueStore(make_queue(rt.settings)).set_subscription(subscription_id)
