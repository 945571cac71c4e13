"""Call tasks as an ICS calendar, built with the ``icalendar`` package.

Each call is an event on its due day at ``[outreach] call_hour`` in the business
timezone. The event UID is derived from the occasion key, so exporting again updates the
events in a calendar app instead of adding duplicates.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

import icalendar

from rapport.config import Settings
from rapport.exports import OutreachRow
from rapport.models.enums import TaskKind

UID_DOMAIN = "rapport.invalid"


def event_uid(row: OutreachRow) -> str:
    return f"{row.occasion_key}@{UID_DOMAIN}"


def build_calendar(
    rows: Iterable[OutreachRow], settings: Settings, now: dt.datetime
) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//rapport//outreach calls//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{settings.business.name}: calls")
    zone = zoneinfo.ZoneInfo(settings.business.timezone)
    length = dt.timedelta(minutes=settings.outreach.call_minutes)
    for row in rows:
        if row.kind is not TaskKind.CALL:
            continue
        start = dt.datetime.combine(row.due_on, dt.time(settings.outreach.call_hour), tzinfo=zone)
        event = icalendar.Event()
        event.add("uid", event_uid(row))
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", start)
        event.add("dtend", start + length)
        event.add("summary", f"Call {row.customer_name}" + (f" ({row.phone})" if row.phone else ""))
        lines = [row.reason]
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
    return calendar


def ics_bytes(rows: Iterable[OutreachRow], settings: Settings, now: dt.datetime) -> bytes:
    """The calendar as ICS bytes (CRLF line endings, as RFC 5545 wants)."""
    return bytes(build_calendar(rows, settings, now).to_ical())
