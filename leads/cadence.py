"""When automated emails go: follow-up and reminder times in the clinic's timezone and business hours.

Pure functions of times and settings, so sequences can be tested in seconds and across a
daylight-saving change. A whole number of days (and so "24h" too) is calendar days on the
clinic's wall clock: "1d" after Friday 10:00 is Saturday 10:00, and a "24h" reminder goes the day
before at the same time, whether or not the clocks changed overnight. Anything else ("2h", "90m",
"25h") is elapsed time.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SEGMENT = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+(?P<open>\d{1,2}:\d{2})\s*-\s*(?P<close>\d{1,2}:\d{2})\s*$"
)


@dataclass(frozen=True)
class Opening:
    weekday: int
    opens: time
    closes: time


@dataclass(frozen=True)
class BusinessHours:
    """Weekly opening hours; no openings means any time on any day."""

    openings: tuple[Opening, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "BusinessHours":
        """Read `Mon-Fri 09:00-18:00; Sat 10:00-14:00` (segments split by `;` or `,`)."""
        openings = []
        for segment in re.split(r"[;,]", text.strip().lower()):
            if not segment.strip():
                continue
            match = _SEGMENT.match(segment)
            if not match or match["first"] not in DAY_NAMES or (match["last"] or match["first"]) not in DAY_NAMES:
                raise ValueError(f"{segment.strip()!r} is not like 'Mon-Fri 09:00-18:00'")
            first, last = DAY_NAMES.index(match["first"]), DAY_NAMES.index(match["last"] or match["first"])
            opens, closes = time.fromisoformat(match["open"].zfill(5)), time.fromisoformat(match["close"].zfill(5))
            if closes <= opens:
                raise ValueError(f"{segment.strip()!r} closes before it opens")
            days = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            openings.extend(Opening(day, opens, closes) for day in days)
        return cls(tuple(sorted(openings, key=lambda opening: (opening.weekday, opening.opens))))

    def next_open_moment(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """Return `moment` if the clinic is open then, else the next opening, in UTC."""
        if not self.openings:
            return moment.astimezone(UTC)
        local = moment.astimezone(zone)
        for day_offset in range(8):
            day = local.date() + timedelta(days=day_offset)
            for opening in self.openings:
                if opening.weekday != day.weekday():
                    continue
                opens = _wall_clock(day, opening.opens, zone)
                closes = _wall_clock(day, opening.closes, zone)
                if moment < opens:
                    return opens.astimezone(UTC)
                if moment < closes:
                    return moment.astimezone(UTC)
        raise AssertionError("a week with openings always has a next one")


def _wall_clock(day, at: time, zone: ZoneInfo) -> datetime:
    # fold=0 (PEP 495): a time the spring-forward gap skips lands just after the gap, and a time
    # the autumn fall-back repeats means its first occurrence.
    return datetime.combine(day, at, tzinfo=zone)


def after(start: datetime, delay: timedelta, zone: ZoneInfo) -> datetime:
    """Return `start` + `delay`: whole days on the clinic's wall clock, anything else elapsed."""
    if delay.days and not delay.seconds and not delay.microseconds:
        local = start.astimezone(zone)
        shifted = _wall_clock(local.date() + timedelta(days=delay.days), local.timetz().replace(tzinfo=None), zone)
        return shifted.astimezone(UTC)
    return start.astimezone(UTC) + delay


def before(start: datetime, lead_time: timedelta, zone: ZoneInfo) -> datetime:
    """Return `start` - `lead_time`, read the same way as `after`."""
    return after(start, -lead_time, zone)


def followup_times(
    inquiry_at: datetime, schedule: list[timedelta], hours: BusinessHours, zone: ZoneInfo
) -> list[datetime]:
    """Return when each follow-up goes: its delay after the inquiry, moved into business hours."""
    return [hours.next_open_moment(after(inquiry_at, delay, zone), zone) for delay in schedule]


def reminder_times(
    starts_at: datetime, offsets: list[timedelta], now: datetime, zone: ZoneInfo
) -> list[tuple[timedelta, datetime]]:
    """Return (offset, send time) for each reminder still ahead; one already past is skipped, not sent late."""
    return [(offset, at) for offset in offsets if (at := before(starts_at, offset, zone)) > now]


def business_time_between(start: datetime, end: datetime, hours: BusinessHours, zone: ZoneInfo) -> timedelta:
    """How much of [start, end) the clinic was open: the age of a lead that counts against a response target."""
    if end <= start:
        return timedelta(0)
    if not hours.openings:
        return end - start
    total = timedelta(0)
    day = start.astimezone(zone).date()
    while (day_start := _wall_clock(day, time(), zone)) < end:
        for opening in hours.openings:
            if opening.weekday == day.weekday():
                opens = max(_wall_clock(day, opening.opens, zone), start)
                closes = min(_wall_clock(day, opening.closes, zone), end)
                if closes > opens:
                    total += closes - opens
        day += timedelta(days=1)
        if day_start > end:
            break
    return total
