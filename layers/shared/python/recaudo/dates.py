"""Dates as the documents write them (dd/mm/yyyy) and the clock, in the institution's time zone."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_DDMMYYYY = re.compile(r"^([0-9]{2})/([0-9]{2})/([0-9]{4})$")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class InvalidDate(ValueError):
    """A date that is not a real dd/mm/yyyy calendar date."""


def parse_ddmmyyyy(text: str) -> date:
    match = _DDMMYYYY.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise InvalidDate(f"fecha debe tener el formato dd/mm/yyyy: {text!r}")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidDate(f"fecha inexistente: {text!r}") from exc


def format_ddmmyyyy(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"  # strftime is ~4x slower per row


def local_today(clock: Clock, tz_name: str) -> date:
    return clock().astimezone(ZoneInfo(tz_name)).date()


def end_of_month(value: date) -> date:
    return value.replace(day=calendar.monthrange(value.year, value.month)[1])
