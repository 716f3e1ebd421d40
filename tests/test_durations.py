"""leads/durations.py: the `30s`, `15m`, `24h`, `3d` settings."""

from datetime import timedelta

import pytest

from leads.durations import parse_duration, parse_durations, parse_seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("3d", timedelta(days=3)),
        ("0.5s", timedelta(milliseconds=500)),
        ("1.5h", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        (" 30s ", timedelta(seconds=30)),
        ("30 s", timedelta(seconds=30)),
        ("\t2d\n", timedelta(days=2)),
    ],
)
def test_parse_duration_reads_number_and_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "30", "s", "30x", "30S", "-5s", "1e3s", "30 seconds", "1d2h", "1,5s", "..5s", "nan", "3 d d"],
)
def test_parse_duration_rejects_anything_else_with_a_clear_message(text):
    with pytest.raises(ValueError, match=r"is not a duration like 30s, 15m, 24h or 3d"):
        parse_duration(text)


def test_parse_duration_error_quotes_the_offending_text():
    with pytest.raises(ValueError, match="'5 fortnights'"):
        parse_duration("5 fortnights")


def test_parse_duration_rejects_an_out_of_range_amount_with_value_error():
    with pytest.raises(ValueError):
        parse_duration("99999999999d")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d,3d,7d", [timedelta(days=1), timedelta(days=3), timedelta(days=7)]),
        ("24h, 2h", [timedelta(hours=24), timedelta(hours=2)]),
        (" 5s ,0.5s ", [timedelta(seconds=5), timedelta(milliseconds=500)]),
        ("1d,,3d,", [timedelta(days=1), timedelta(days=3)]),
        ("", []),
        ("  ", []),
    ],
)
def test_parse_durations_reads_a_comma_separated_list(text, expected):
    assert parse_durations(text) == expected


def test_parse_durations_rejects_a_bad_item():
    with pytest.raises(ValueError, match="'7 weeks'"):
        parse_durations("1d,7 weeks")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0.3", 0.3),
        (" 2 ", 2.0),
        ("0.3s", 0.3),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        (5, 5.0),
        (0.25, 0.25),
    ],
)
def test_parse_seconds_accepts_plain_numbers_and_durations(value, expected):
    assert parse_seconds(value) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "soon", "5 sec", "5x"])
def test_parse_seconds_rejects_text_that_is_neither(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_seconds(text)


@pytest.mark.parametrize("text", ["nan", "inf", "-5"])
def test_parse_seconds_rejects_non_finite_or_negative_numbers(text):
    with pytest.raises(ValueError):
        parse_seconds(text)
