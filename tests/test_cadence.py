"""leads/cadence.py: business hours, wall-clock days across daylight-saving changes, follow-up and reminder times."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from leads.cadence import BusinessHours, Opening, after, before, followup_times, reminder_times
from leads.durations import parse_duration, parse_durations

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = BusinessHours.parse("Mon-Fri 09:00-18:00")
ALWAYS = BusinessHours.parse("")


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def days_of(hours: BusinessHours) -> list[int]:
    return [opening.weekday for opening in hours.openings]


# --- BusinessHours.parse ----------------------------------------------------------------------


def test_parse_a_weekday_range_opens_monday_to_friday():
    assert WEEKDAYS.openings == tuple(Opening(day, time(9), time(18)) for day in range(5))


def test_parse_two_segments_adds_saturday_hours():
    hours = BusinessHours.parse("Mon-Fri 09:00-18:00; Sat 10:00-14:00")

    assert days_of(hours) == [0, 1, 2, 3, 4, 5]
    assert hours.openings[-1] == Opening(5, time(10), time(14))


def test_parse_a_range_that_wraps_past_sunday():
    hours = BusinessHours.parse("Sat-Mon 10:00-12:00")

    assert days_of(hours) == [0, 5, 6]
    assert {(opening.opens, opening.closes) for opening in hours.openings} == {(time(10), time(12))}


def test_parse_is_case_insensitive_and_accepts_one_digit_hours():
    assert BusinessHours.parse("mon-FRI 9:00-18:00") == WEEKDAYS


def test_parse_empty_means_always_open():
    assert ALWAYS.openings == ()
    assert BusinessHours.parse("   ") == ALWAYS


def test_parse_rejects_an_unknown_day_naming_the_segment():
    with pytest.raises(ValueError, match=r"'funday 09:00-10:00' is not like 'Mon-Fri 09:00-18:00'"):
        BusinessHours.parse("Funday 09:00-10:00")


def test_parse_rejects_closing_before_opening():
    with pytest.raises(ValueError, match="closes before it opens"):
        BusinessHours.parse("Mon 18:00-09:00")


def test_parse_rejects_hours_without_minutes():
    with pytest.raises(ValueError, match=r"'mon-fri 9-5' is not like 'Mon-Fri 09:00-18:00'"):
        BusinessHours.parse("Mon-Fri 9-5")


def test_parse_rejects_a_bad_segment_among_good_ones():
    with pytest.raises(ValueError, match="'sat noon' is not like"):
        BusinessHours.parse("Mon-Fri 09:00-18:00; Sat noon")


# --- next_open_moment -------------------------------------------------------------------------


def test_a_moment_inside_business_hours_is_unchanged():
    moment = utc(2026, 3, 3, 15, 30)  # Tuesday 10:30 EST

    assert WEEKDAYS.next_open_moment(moment, NEW_YORK) == moment


def test_a_moment_before_opening_moves_to_that_days_opening():
    moment = ny(2026, 3, 3, 7, 15)

    assert WEEKDAYS.next_open_moment(moment, NEW_YORK) == utc(2026, 3, 3, 14, 0)


def test_a_moment_after_closing_moves_to_the_next_days_opening():
    moment = ny(2026, 3, 3, 18, 0)

    assert WEEKDAYS.next_open_moment(moment, NEW_YORK) == utc(2026, 3, 4, 14, 0)


def test_friday_evening_moves_to_monday_morning():
    moment = ny(2026, 3, 6, 19, 30)

    assert WEEKDAYS.next_open_moment(moment, NEW_YORK) == ny(2026, 3, 9, 9, 0)


def test_the_next_opening_is_returned_in_utc():
    assert WEEKDAYS.next_open_moment(ny(2026, 3, 7, 12, 0), NEW_YORK).tzinfo is UTC


def test_a_lunch_break_moves_to_the_afternoon_opening():
    hours = BusinessHours.parse("Mon 09:00-12:00; Mon 13:00-17:00")

    assert hours.next_open_moment(ny(2026, 3, 2, 12, 30), NEW_YORK) == ny(2026, 3, 2, 13, 0)


def test_saturday_hours_are_used_on_saturday():
    hours = BusinessHours.parse("Mon-Fri 09:00-18:00; Sat 10:00-14:00")

    assert hours.next_open_moment(ny(2026, 3, 7, 8, 0), NEW_YORK) == ny(2026, 3, 7, 10, 0)


def test_empty_hours_leave_any_moment_unchanged():
    moment = ny(2026, 3, 8, 3, 30)  # Sunday night, just after the clocks changed

    assert ALWAYS.next_open_moment(moment, NEW_YORK) == moment


def test_the_opening_after_spring_forward_is_on_daylight_time():
    # Sunday 2026-03-08 the clocks go forward; Monday opens at 09:00 EDT = 13:00 UTC.
    assert WEEKDAYS.next_open_moment(ny(2026, 3, 8, 12, 0), NEW_YORK) == utc(2026, 3, 9, 13, 0)


# --- after / before ---------------------------------------------------------------------------


def test_a_whole_day_across_spring_forward_keeps_the_wall_clock_time():
    saturday = ny(2026, 3, 7, 10, 0)  # EST

    sunday = after(saturday, timedelta(days=1), NEW_YORK)

    assert sunday == ny(2026, 3, 8, 10, 0)  # EDT
    assert sunday.astimezone(NEW_YORK).tzname() == "EDT"
    assert sunday - saturday == timedelta(hours=23)


def test_a_whole_day_across_fall_back_is_25_hours_elapsed():
    saturday = ny(2026, 10, 31, 10, 0)  # EDT

    sunday = after(saturday, timedelta(days=1), NEW_YORK)

    assert sunday == ny(2026, 11, 1, 10, 0)  # EST
    assert sunday - saturday == timedelta(hours=25)


def test_hours_are_elapsed_time_across_spring_forward():
    saturday = utc(2026, 3, 7, 15, 0)  # 10:00 EST

    assert after(saturday, timedelta(hours=30), NEW_YORK) == utc(2026, 3, 8, 21, 0)  # Sunday 17:00 EDT


def test_hours_are_elapsed_time_whatever_the_zone_of_the_start():
    saturday = ny(2026, 3, 7, 10, 0)  # 15:00 UTC

    assert after(saturday, timedelta(hours=30), NEW_YORK) == utc(2026, 3, 8, 21, 0)


def test_after_returns_utc():
    assert after(ny(2026, 3, 7, 10, 0), timedelta(days=3), NEW_YORK).tzinfo is UTC


def test_a_day_ending_in_the_spring_forward_gap_lands_just_after_it():
    # 02:30 does not exist on 2026-03-08 in New York: the clocks jump from 02:00 EST to 03:00 EDT.
    assert after(ny(2026, 3, 7, 2, 30), timedelta(days=1), NEW_YORK) == ny(2026, 3, 8, 3, 30)


def test_before_a_whole_day_keeps_the_wall_clock_time():
    monday = ny(2026, 3, 9, 10, 0)  # EDT

    assert before(monday, timedelta(days=2), NEW_YORK) == ny(2026, 3, 7, 10, 0)  # EST


def test_before_hours_is_elapsed_time_across_spring_forward():
    start = utc(2026, 3, 8, 7, 30)  # Sunday 03:30 EDT, half an hour after the clocks went forward

    assert before(start, timedelta(hours=2), NEW_YORK) == utc(2026, 3, 8, 5, 30)  # 00:30 EST


def test_a_24h_offset_is_the_day_before_at_the_same_local_time_across_spring_forward():
    # A whole number of days, 24h included, is a calendar day: "the day before at the same time".
    start = utc(2026, 3, 8, 14, 0)  # Sunday 10:00 EDT, the day the clocks go forward

    assert before(start, parse_duration("24h"), NEW_YORK) == utc(2026, 3, 7, 15, 0)  # Saturday 10:00 EST


def test_a_25h_offset_is_elapsed_time_across_spring_forward():
    start = utc(2026, 3, 8, 14, 0)

    assert before(start, parse_duration("25h"), NEW_YORK) == utc(2026, 3, 7, 13, 0)


# --- followup_times ---------------------------------------------------------------------------


def test_followups_across_spring_forward_land_at_nine_local():
    inquiry = ny(2026, 3, 7, 20, 0)  # Saturday evening, EST

    times = followup_times(inquiry, parse_durations("1d,3d"), WEEKDAYS, NEW_YORK)

    assert times == [utc(2026, 3, 9, 13, 0), utc(2026, 3, 11, 13, 0)]  # Monday and Wednesday 09:00 EDT


def test_followups_across_fall_back_land_at_nine_local():
    inquiry = ny(2026, 10, 31, 20, 0)  # Saturday evening, EDT

    times = followup_times(inquiry, parse_durations("1d,3d"), WEEKDAYS, NEW_YORK)

    assert times == [utc(2026, 11, 2, 14, 0), utc(2026, 11, 4, 14, 0)]  # Monday and Wednesday 09:00 EST


def test_followups_without_hours_keep_the_inquirys_wall_clock_time_across_fall_back():
    inquiry = ny(2026, 10, 31, 11, 0)

    times = followup_times(inquiry, parse_durations("1d,2d"), ALWAYS, NEW_YORK)

    assert times == [ny(2026, 11, 1, 11, 0), ny(2026, 11, 2, 11, 0)]


def test_followups_inside_hours_are_not_moved():
    inquiry = ny(2026, 3, 2, 10, 0)  # Monday

    assert followup_times(inquiry, parse_durations("1d,3d"), WEEKDAYS, NEW_YORK) == [
        ny(2026, 3, 3, 10, 0),
        ny(2026, 3, 5, 10, 0),
    ]


def test_no_schedule_means_no_followups():
    assert followup_times(ny(2026, 3, 2, 10, 0), [], WEEKDAYS, NEW_YORK) == []


# --- reminder_times ---------------------------------------------------------------------------


def test_reminders_go_at_each_offset_before_the_start():
    start = ny(2026, 3, 10, 10, 0)  # EDT
    now = utc(2026, 3, 2, 15, 0)

    assert reminder_times(start, parse_durations("24h,2h"), now, NEW_YORK) == [
        (timedelta(hours=24), utc(2026, 3, 9, 14, 0)),
        (timedelta(hours=2), utc(2026, 3, 10, 12, 0)),
    ]


def test_reminder_times_are_in_utc():
    times = reminder_times(ny(2026, 3, 10, 10, 0), parse_durations("24h,2h"), utc(2026, 3, 2), NEW_YORK)

    assert [at.tzinfo for _, at in times] == [UTC, UTC]


def test_a_reminder_already_past_is_skipped():
    start = utc(2026, 3, 10, 15, 0)
    booked = start - timedelta(hours=3)

    assert reminder_times(start, parse_durations("24h,2h"), booked, NEW_YORK) == [
        (timedelta(hours=2), utc(2026, 3, 10, 13, 0))
    ]


def test_a_reminder_due_exactly_now_is_skipped():
    start = utc(2026, 3, 10, 15, 0)

    assert reminder_times(start, parse_durations("2h"), start - timedelta(hours=2), NEW_YORK) == []
