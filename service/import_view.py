"""Terminal side of `runstrength import`: progress bar, per-file problems and the summary."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from integrations.files.sources import Source, Walk
from integrations.types import Sport
from service.app import Runtime
from service.usecases.import_files import ImportReport, import_sources
from service.usecases.runners import default_runner

EXIT_SOME_REJECTED = 2


def run(rt: Runtime, paths: Sequence[Path], sport: Sport | None) -> int:
    """Import the paths for the default runner; 0 when nothing was rejected, 2 otherwise."""
    with rt.db.session() as session:
        runner_id = default_runner(session).id
    walk = Walk(paths)
    sources = list(walk.sources())
    if sys.stderr.isatty() and len(sources) > 1:
        report = _with_progress(rt, runner_id, sources, sport)
    else:
        report = import_sources(rt.db, runner_id, sources, sport_override=sport)
    for problem in report.rejected:
        click.echo(f"rejected: {problem.name}: {problem.detail}", err=True)
    click.echo(summary(report, walk.skipped))
    return EXIT_SOME_REJECTED if report.rejected else 0


def _with_progress(
    rt: Runtime, runner_id: int, sources: list[Source], sport: Sport | None
) -> ImportReport:
    columns = (TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("import", total=sum(s.size for s in sources))
        return import_sources(
            rt.db,
            runner_id,
            sources,
            sport_override=sport,
            on_file=lambda s: progress.advance(task, s.size),
        )


def summary(report: ImportReport, skipped: int) -> str:
    """One line a runner can read: what was imported, found twice, not running or rejected."""
    runs, others = report.total("runs"), report.total("others")
    parts = [
        f"{len(report.files)} file(s) read",
        f"{runs} run(s) imported",
        f"{others} not running (stored as other sports)",
        f"{report.total('duplicates')} duplicate(s)",
        f"{len(report.rejected)} rejected",
    ]
    if skipped:
        parts.append(f"{skipped} other file(s) skipped")
    return "; ".join(parts)
