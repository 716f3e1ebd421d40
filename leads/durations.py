"""Parse the duration settings (`1d,3d,7d`, `24h,2h`, `0.5s`) used by schedules and tests."""

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def parse_duration(text: str) -> timedelta:
    """Return the timedelta that `text` (a number and one of s, m, h, d) names."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 24h or 3d")
    amount, unit = match.groups()
    return timedelta(**{_UNITS[unit]: float(amount)})


def parse_durations(text: str) -> list[timedelta]:
    """Return the durations of a comma-separated list; an empty text is an empty list."""
    return [parse_duration(part) for part in text.split(",") if part.strip()]


def parse_seconds(text: str | float) -> float:
    """Return seconds from a plain number of seconds or a duration with a unit."""
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return float(text)
    except ValueError:
        return parse_duration(text).total_seconds()
