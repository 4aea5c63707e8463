"""EventBridge schedules fire from the runner's own timer: ``rate()`` and ``cron()`` (AWS's six-field
form, evaluated with croniter)."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from local_stack.resources import Schedule

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}


class ScheduleError(ValueError):
    pass


def _aws_dow_to_cron(field: str) -> str:
    """AWS day-of-week counts 1 (SUN) to 7 (SAT); cron counts 0 (SUN) to 6 (SAT)."""

    def one(token: str) -> str:
        if token.upper() in _DAYS:
            return str(_DAYS[token.upper()])
        if token.isdigit():
            return str(int(token) - 1)
        return token

    out = []
    for part in field.split(","):
        if "#" in part:
            day, nth = part.split("#")
            out.append(f"{one(day)}#{nth}")
        elif "-" in part:
            low, high = part.split("-")
            out.append(f"{one(low)}-{one(high)}")
        else:
            out.append(one(part))
    return ",".join(out)


def next_fire(expression: str, after: datetime, timezone_name: str = "UTC") -> datetime:
    """The first instant strictly after ``after`` at which the schedule fires (UTC); ``cron()`` fields
    are read in ``timezone_name``, as EventBridge Scheduler's ScheduleExpressionTimezone."""
    rate = _RATE.match(expression.strip())
    if rate:
        seconds = int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")]
        if seconds <= 0:
            raise ScheduleError(f"rate must be positive: {expression}")
        return after + timedelta(seconds=seconds)
    cron = _CRON.match(expression.strip())
    if cron:
        fields = cron.group(1).split()
        if len(fields) != 6:
            raise ScheduleError(f"AWS cron takes six fields (min hour dom month dow year): {expression}")
        minute, hour, dom, month, dow, year = fields
        if "?" not in (dom, dow):
            raise ScheduleError(f"AWS cron needs '?' in day-of-month or day-of-week: {expression}")
        spec = " ".join([minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else _aws_dow_to_cron(dow)])
        iterator = croniter(spec, after.astimezone(ZoneInfo(timezone_name)))
        for _ in range(10_000):
            candidate = iterator.get_next(datetime)
            if year in ("*", "?") or str(candidate.year) in _years(year):
                return candidate.astimezone(UTC)
        raise ScheduleError(f"schedule never fires: {expression}")
    raise ScheduleError(f"not a rate() or cron() expression: {expression}")


def _years(field: str) -> set[str]:
    out: set[str] = set()
    for part in field.split(","):
        if "-" in part:
            low, high = part.split("-")
            out |= {str(y) for y in range(int(low), int(high) + 1)}
        else:
            out.add(part)
    return out


def scheduled_event(schedule: Schedule, when: datetime, region: str, account: str) -> dict[str, Any]:
    if schedule.payload is not None:
        return schedule.payload
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{schedule.name}"],
        "detail": {},
    }


class Timer:
    """Fires each schedule at its next instant; a slow target never delays the others."""

    def __init__(
        self,
        schedules: list[Schedule],
        fire: Callable[[Schedule, dict[str, Any]], Any],
        region: str,
        account: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        for schedule in schedules:
            next_fire(schedule.expression, datetime.now(UTC))  # invalid expressions fail at start-up
        self._schedules = schedules
        self._fire = fire
        self._region, self._account = region, account
        self._clock = clock
        self._stop = threading.Event()
        self.fired: list[tuple[str, datetime]] = []

    def start(self) -> None:
        for schedule in self._schedules:
            threading.Thread(target=self._run, args=(schedule,), daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def run_now(self, name: str) -> Any:
        """Fire the schedule named ``name`` now, in this thread; its target's outcome, or None if unknown."""
        for schedule in self._schedules:
            if schedule.name == name:
                now = self._clock().replace(microsecond=0)
                self.fired.append((schedule.name, now))
                return self._fire(schedule, scheduled_event(schedule, now, self._region, self._account))
        return None

    def _run(self, schedule: Schedule) -> None:
        due = next_fire(schedule.expression, self._clock(), schedule.timezone)
        while not self._stop.wait(max(0.0, (due - self._clock()).total_seconds())):
            self.fired.append((schedule.name, due))
            event = scheduled_event(schedule, due, self._region, self._account)
            threading.Thread(target=self._fire, args=(schedule, event), daemon=True).start()
            # after a pause (a sleeping laptop) fire once, not once per missed slot, as EventBridge does
            due = next_fire(schedule.expression, max(due, self._clock()), schedule.timezone)
