"""The runstrength command: thin verbs that parse arguments, call one use case and print."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from integrations.types import Sport
from service import cli_jobs, cli_strava, history_view, import_view, plan_view, server
from service import db as dbmod
from service.app import Runtime, create_app, runtime
from service.planning.model import OverrideAction
from service.preferences import PreferencesError
from service.settings import Settings, SettingsError
from service.usecases.overrides import UnknownSession
from service.usecases.runners import InvalidValue

F = TypeVar("F", bound=Callable[..., Any])
EXPECTED = (
    SettingsError,
    dbmod.SchemaOutdated,
    InvalidValue,
    PreferencesError,
    UnknownSession,
    FileNotFoundError,
    server.ServeError,
)


class State:
    """Lazily built runtime, so --help and usage errors never touch the database."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None

    def close(self) -> None:
        """Close the database's connections when the command ends (the process may go on)."""
        if self._runtime is not None:
            self._runtime.db.dispose()
            self._runtime = None

    def runtime(self, *, check_schema: bool = True) -> Runtime:
        if self._runtime is None:
            self._runtime = runtime(create_app())
        if check_schema:
            dbmod.check_schema(self._runtime.db.engine)
        return self._runtime


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="runstrength")
@click.pass_context
def cli(ctx: click.Context) -> None:  # worker and publish: service/cli_jobs.py
    """runstrength: strength, core and cross-training slotted around your runs."""
    ctx.obj = State()
    ctx.call_on_close(ctx.obj.close)


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(state: State) -> None:
    """Create or migrate the database schema to this version."""
    rt = state.runtime(check_schema=False)
    before, after = dbmod.upgrade(rt.db.engine)
    if before == after:
        click.echo(f"database already at {after}")
    else:
        click.echo(f"database migrated from {before or 'empty'} to {after}")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--sport",
    type=click.Choice([s.value for s in Sport if s is not Sport.UNKNOWN]),
    help="Sport for activities whose file does not say (e.g. run for GPX tracks without a type).",
)
@click.pass_obj
def import_(state: State, paths: Sequence[Path], sport: str | None) -> None:
    """Import FIT, GPX and TCX files (plain or .gz), folders and zip archives."""
    code = import_view.run(state.runtime(), paths, Sport(sport) if sport else None)
    if code:
        raise click.exceptions.Exit(code)


@cli.command()
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only from this local date on.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def activities(state: State, since: Any, as_json: bool) -> None:
    """List stored activities, oldest first."""
    history_view.activities(state.runtime(), since.date() if since else None, as_json)


@cli.command()
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 520))
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Pretend today is this date.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def mileage(state: State, weeks: int, today: Any, as_json: bool) -> None:
    """Weekly running mileage, the 4-week average and the acute:chronic load ratio."""
    day: date | None = today.date() if today else None
    history_view.mileage(state.runtime(), weeks, day, as_json)


@cli.group()
def runner() -> None:
    """Show or change the runner's basics."""


@runner.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def runner_show(state: State, as_json: bool) -> None:
    """Show the runner's time zone, units and week start."""
    history_view.show_runner(state.runtime(), as_json)


@runner.command("set")
@click.option("--timezone", help="IANA time zone, e.g. Europe/Berlin.")
@click.option("--units", type=click.Choice(["km", "mi"]))
@click.option("--week-start", help="First day of the week, e.g. monday.")
@click.option("--name")
@click.option(
    "--prefs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Preferences TOML (equipment, availability, race, ...) to keep.",
)
@click.pass_obj
def runner_set(state: State, /, prefs: Path | None, **values: str | None) -> None:
    """Change the runner's time zone, units, week start, name or preferences."""
    if prefs is not None:
        plan_view.store_prefs(state.runtime(), prefs)
    history_view.set_runner(state.runtime(), values)


DATE = click.DateTime(["%Y-%m-%d"])


@cli.command()
@click.option("--start", type=DATE, help="First week to plan (snaps to your week start).")
@click.option("--weeks", default=1, show_default=True, type=click.IntRange(1, 52))
@click.option("--json", "fmt", flag_value="json", help="Print the plan as JSON.")
@click.option("--ics", "fmt", flag_value="ics", help="Print the sessions as iCalendar.")
@click.option(
    "--from",
    "sources",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Plan straight from these workout files/folders/zips, without the database.",
)
@click.option(
    "--prefs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Preferences TOML (with --from).",
)
@click.option("--today", type=DATE, help="Pretend today is this date.")
@click.pass_obj
def plan(
    state: State,
    /,
    *,
    start: Any,
    weeks: int,
    fmt: str | None,
    sources: tuple[Path, ...],
    prefs: Path | None,
    today: Any,
) -> None:
    """Plan strength, core and cross-training sessions around your runs (default: this week)."""
    first = start.date() if start else None
    day = today.date() if today else None
    if sources:
        built, revised = plan_view.stateless_plan(sources, prefs, day, first, weeks)
    elif prefs is not None:
        raise click.UsageError(
            "--prefs goes with --from; to keep preferences use `runstrength runner set --prefs`"
        )
    else:
        built, revised = plan_view.stored_plan(state.runtime(), day, first, weeks)
    plan_view.print_plan(built, fmt, revised)


@cli.group()
def session() -> None:
    """Move, skip, lock or restore one planned session (by its uid)."""


TODAY = click.option("--today", type=DATE, help="Pretend today is this date (as for plan).")


@session.command("move")
@click.argument("uid")
@click.option("--to", "slot", required=True, help="Local start, e.g. '2026-11-26 18:30'.")
@TODAY
@click.pass_obj
def session_move(state: State, uid: str, slot: str, today: Any) -> None:
    """Put a session at another time; rebuilds keep it there."""
    plan_view.override(state.runtime(), uid, OverrideAction.MOVE, slot, _day(today))


@session.command("skip")
@click.argument("uid")
@TODAY
@click.pass_obj
def session_skip(state: State, uid: str, today: Any) -> None:
    """Drop a session from the plan."""
    plan_view.override(state.runtime(), uid, OverrideAction.SKIP, None, _day(today))


@session.command("lock")
@click.argument("uid")
@TODAY
@click.pass_obj
def session_lock(state: State, uid: str, today: Any) -> None:
    """Keep a session where it is now, whatever later rebuilds find."""
    plan_view.override(state.runtime(), uid, OverrideAction.LOCK, None, _day(today))


@session.command("restore")
@click.argument("uid")
@click.pass_obj
def session_restore(state: State, uid: str) -> None:
    """Undo a move, skip or lock: the planner places the session again."""
    plan_view.override(state.runtime(), uid, None, None, None)


HOST = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
PORT = click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)


@cli.command()
@HOST
@PORT
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Worker processes (default 2, or the config's)."
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A gunicorn config file (e.g. deploy/gunicorn.conf.py); the options above win.",
)
@click.pass_obj
def serve(state: State, host: str, port: int, workers: int | None, config: Path | None) -> None:
    """Serve the web pages, API and feeds, and run background jobs, until SIGTERM or Ctrl+C."""
    options = server.ServeOptions(host=host, port=port, workers=workers, config=config)
    server.check_ready_to_serve(state.runtime(check_schema=False), options)
    _serve(create_app, options, None)


@cli.command()
@HOST
@PORT
@click.option("--no-serve", is_flag=True, help="Set up the demo and print its URLs, then exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Try runstrength offline: a separate demo database with 12 weeks of runs, served."""
    from service import demo as demomod

    overrides = demomod.demo_overrides(Settings.from_env().data_dir, host, port)
    result = demomod.set_up(overrides)
    options = server.ServeOptions(host=host, port=port)
    if not no_serve:
        server.check_ready_to_serve(runtime(result.app), options)
    base = demomod.public_url(host, port)
    click.echo(f"demo database: {overrides['database_url'].removeprefix('sqlite:///')}")
    click.echo(
        f"demo runner: {result.activity_count} activities ({result.stored.runs} runs and "
        f"{result.stored.others} others new), {result.sessions_this_week} sessions this week"
    )
    click.echo(f"runner page: {base}/")
    click.echo(f"feed: {result.links.https}")
    click.echo(f"subscribe: {result.links.webcal}")
    if not no_serve:
        click.echo("serving until Ctrl+C or SIGTERM")
        _serve(lambda: create_app(overrides), options, overrides)


def _serve(
    factory: Callable[[], Any], options: server.ServeOptions, overrides: dict[str, Any] | None
) -> None:
    sys.stdout.flush()  # forked workers must not inherit (and repeat) buffered output
    code = server.serve(factory, options, server.background_worker(overrides))
    if code:
        raise click.exceptions.Exit(code)


def _day(value: Any) -> date | None:
    return value.date() if value else None


cli.add_command(cli_jobs.worker)
cli.add_command(cli_jobs.publish)
cli.add_command(cli_strava.strava)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 on success, 1 with a one-line message on a user error, never a trace."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        # Without standalone mode click returns a command's Exit code instead of raising it.
        code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("runstrength: interrupted", err=True)
        return 130
    except Exception as exc:
        click.echo(f"runstrength: {describe_error(exc)}", err=True)
        return 1
    return code if isinstance(code, int) else 0


def describe_error(exc: Exception) -> str:
    """One line for the runner; unexpected errors keep their traceback in the debug log only."""
    if isinstance(exc, click.exceptions.Abort):
        return "aborted"
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, EXPECTED):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {_first_line(exc)}"
    logging.getLogger("runstrength").debug("internal error", exc_info=True)
    return f"internal error: {type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
