"""Call tasks as an ICS calendar, built with the ``icalendar`` package.

Each call is an event at ``[outreach] call_hour`` in the business timezone, whose
``VTIMEZONE`` the calendar carries (a calendar app need not know the zone's name). A call
is on its due day; a call still open after that day is on the listing day instead, so it
shows on today's agenda rather than on a day already gone. The event UID is derived from
the occasion key, so exporting again updates the events in a calendar app instead of
adding duplicates; ``SEQUENCE`` counts the days a late call has been carried forward, so
each day's export supersedes the last.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

import icalendar

from rapport.config import Settings
from rapport.exports import OutreachRow
from rapport.models.enums import OPEN_TASK_STATUSES, TaskKind

UID_DOMAIN = "rapport.invalid"


def event_uid(row: OutreachRow) -> str:
    """The event's UID: the same for the task's occasion in every export."""
    return f"{row.occasion_key}@{UID_DOMAIN}"


def call_day(row: OutreachRow, as_of: dt.date) -> dt.date:
    """The day a call goes in the calendar: its due day, or ``as_of`` (the listing day)
    for a call still open after its due day."""
    if row.status in OPEN_TASK_STATUSES and row.due_on < as_of:
        return as_of
    return row.due_on


def build_calendar(
    rows: Iterable[OutreachRow],
    settings: Settings,
    now: dt.datetime,
    *,
    as_of: dt.date | None = None,
) -> icalendar.Calendar:
    """The calls among ``rows`` as a calendar. ``as_of``: the listing day, where late
    open calls go (by default, ``now``'s day in the business timezone)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//rapport//outreach calls//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{settings.business.name}: calls")
    zone = zoneinfo.ZoneInfo(settings.business.timezone)
    if as_of is None:
        as_of = now.astimezone(zone).date()
    days: list[dt.date] = []
    length = dt.timedelta(minutes=settings.outreach.call_minutes)
    for row in rows:
        if row.kind is not TaskKind.CALL:
            continue
        day = call_day(row, as_of)
        days.append(day)
        start = dt.datetime.combine(day, dt.time(settings.outreach.call_hour), tzinfo=zone)
        event = icalendar.Event()
        event.add("uid", event_uid(row))
        event.add("sequence", (day - row.due_on).days)
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", start)
        event.add("dtend", start + length)
        event.add("summary", f"Call {row.customer_name}" + (f" ({row.phone})" if row.phone else ""))
        lines = [row.reason]
        if day != row.due_on:
            lines.append(f"Late: due {row.due_on.isoformat()}")
        if row.phone:
            lines.append(f"Phone: {row.phone}")
        if row.message:
            lines.append(row.message)
        lines.extend(f"- {point}" for point in row.talking_points)
        event.add("description", "\n".join(lines))
        event.add("categories", [row.rule])
        if row.owner:
            event.add("x-rapport-owner", row.owner)
        calendar.add_component(event)
    if days:
        # The zone's rules only for the days the calendar covers: a few lines, not the
        # zone's whole history.
        calendar.add_missing_timezones(
            first_date=min(days) - dt.timedelta(days=1),
            last_date=max(days) + dt.timedelta(days=2),
        )
    return calendar


def ics_bytes(
    rows: Iterable[OutreachRow],
    settings: Settings,
    now: dt.datetime,
    *,
    as_of: dt.date | None = None,
) -> bytes:
    """The calendar as ICS bytes (CRLF line endings, as RFC 5545 wants); ``as_of`` as
    for :func:`build_calendar`."""
    return bytes(build_calendar(rows, settings, now, as_of=as_of).to_ical())
