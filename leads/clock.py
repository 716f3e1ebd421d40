"""The app's clock: UTC now, replaceable through the `CLOCK` setting so tests control time."""

from datetime import UTC, datetime

from flask import current_app


def system_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """Return the current time, timezone-aware in UTC, from the app's configured clock."""
    return current_app.config.get("CLOCK", system_now)()
