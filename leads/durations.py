"""Parse the duration settings (`1d,3d,7d`, `24h,2h`, `0.5s`) used by schedules and tests."""

import math
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
    try:
        return timedelta(**{_UNITS[unit]: float(amount)})
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def parse_durations(text: str) -> list[timedelta]:
    """Return the durations of a comma-separated list; an empty text is an empty list."""
    return [parse_duration(part) for part in text.split(",") if part.strip()]


def parse_seconds(text: str | float) -> float:
    """Return seconds (finite, not negative) from a plain number of seconds or a duration with a unit."""
    try:
        seconds = float(text)
    except ValueError:
        return parse_duration(text).total_seconds()
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{text!r} is not a number of seconds")
    return seconds
