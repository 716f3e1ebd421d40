"""The app's clock: UTC now, replaceable through the `CLOCK` setting so tests control time."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def system_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """Return the current time, timezone-aware in UTC, from the app's configured clock."""
    return current_app.config.get("CLOCK", system_now)()


def local_time(moment: datetime, zone: str) -> str:
    """Return a time as people at the clinic say it: `Tuesday, March 10 at 10:00 AM EDT`."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%A, %B} {local.day} at {local.hour % 12 or 12}:{local:%M %p %Z}"
