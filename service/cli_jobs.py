"""The queue's commands: `runstrength worker` runs background jobs, `publish` publishes now."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import click
from sqlalchemy import select

from service.models import Runner

if TYPE_CHECKING:
    from service.cli import State


@click.command()
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Jobs run at once."
)
@click.pass_obj
def worker(state: State, workers: int) -> None:
    """Run background jobs (calendar publishing) until SIGTERM (finish jobs) or Ctrl+C."""
    from service import jobs

    rt = state.runtime()
    logging.getLogger("runstrength.jobs").setLevel(logging.INFO)
    where = jobs.queue_location(rt.settings)
    click.echo(f"worker: {workers} at a time from {where}, until SIGTERM or Ctrl+C")
    sys.stdout.flush()
    try:
        jobs.Jobs(jobs.make_queue(rt.settings), rt).run_consumer(workers)
    except jobs.QueueUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("worker: stopped")


@click.command()
@click.option("--runner", "runner_id", type=click.IntRange(1), help="This runner (default: first).")
@click.option("--all", "everyone", is_flag=True, help="Every runner with Google Calendar.")
@click.pass_obj
def publish(state: State, runner_id: int | None, everyone: bool) -> None:
    """Publish the plan to Google Calendar now; one line per runner says what changed.

    Exit status 1 when a runner could not be published (not connected, refused, failed)."""
    from service import jobs
    from service.platform_jobs import connected_runners

    if everyone and runner_id is not None:
        raise click.UsageError("give --runner or --all, not both")
    rt = state.runtime()
    if everyone:
        ids = connected_runners(rt.db)
        if not ids:
            click.echo("no runner has a connected Google calendar")
    else:
        ids = [_runner_id(state, runner_id)]
    published = jobs.Jobs(jobs.make_queue(rt.settings), rt)
    failed = False
    for each in ids:
        ok, line = published.publish_line(each)
        click.echo(f"runner {each}: {line}")
        failed = failed or not ok
    if failed:
        raise click.exceptions.Exit(1)


def _runner_id(state: State, wanted: int | None) -> int:
    query = select(Runner.id).order_by(Runner.id).limit(1)
    if wanted is not None:
        query = select(Runner.id).where(Runner.id == wanted)
    with state.runtime().db.session() as session:
        found = session.scalars(query).first()
    if found is None:
        raise click.ClickException(f"no runner {wanted}" if wanted else "no runner yet")
    return found
