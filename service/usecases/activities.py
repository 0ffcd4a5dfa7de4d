"""The runner's stored activities as lists: newest first, for the API and the pages."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Activity, Runner


def newest_activities(
    session: Session, runner: Runner, *, since: date | None, limit: int
) -> list[Activity]:
    """Up to ``limit`` of the runner's activities, newest start first, from a local date on."""
    query = select(Activity).where(Activity.runner_id == runner.id)
    if since is not None:
        query = query.where(Activity.local_date >= since)
    order = (Activity.start_utc.desc(), Activity.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))
