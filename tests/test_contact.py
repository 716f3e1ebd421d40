"""leads/contact.py: email addresses and phone numbers in their one stored form."""

import pytest

from leads.contact import display_phone, normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("dana@example.org", "dana@example.org"),
        ("Dana.Whitfield@Example.ORG", "dana.whitfield@example.org"),
        ("DANA@EXAMPLE.ORG", "dana@example.org"),
        ("  dana@example.org\t", "dana@example.org"),
        ("\n Dana@Example.org \n", "dana@example.org"),
        ("dana+ketamine@example.org", "dana+ketamine@example.org"),
    ],
)
def test_normalise_email_folds_case_and_strips_whitespace(raw, expected):
    assert normalise_email(raw) == expected


def test_normalise_email_makes_case_variants_equal():
    assert normalise_email("Dana@Example.org") == normalise_email(" dana@EXAMPLE.org ")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "@-sign"),
        ("   ", "@-sign"),
        ("dana.example.org", "@-sign"),
        ("dana@", "after the @-sign"),
        ("@example.org", "before the @-sign"),
        ("dana@@example.org", "invalid characters"),
        ("dana@example", "period"),
        ("dana@exa mple.org", "invalid characters"),
        ("Dana <dana@example.org>", "display name"),
        ("dana@example.org\r\nBcc: eve@example.org", "invalid characters"),
    ],
)
def test_normalise_email_rejects_invalid_addresses_with_the_reason(raw, message):
    with pytest.raises(ValueError, match=message):
        normalise_email(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "(201) 555-0143",
        "201-555-0143",
        "201.555.0143",
        "2015550143",
        "201 555 0143",
        "1 (201) 555-0143",
        "+1 201 555 0143",
        "+1-201-555-0143",
        "  (201) 555-0143  ",
    ],
)
def test_normalise_phone_turns_us_formats_into_e164(raw):
    assert normalise_phone(raw, "US") == "+12015550143"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+33 1 42 68 53 00", "+33142685300"),
        ("+49 30 901820", "+4930901820"),
    ],
)
def test_normalise_phone_keeps_the_country_of_international_numbers(raw, expected):
    assert normalise_phone(raw, "US") == expected


def test_normalise_phone_reads_national_numbers_in_the_default_region():
    assert normalise_phone("020 7946 0958", "GB") == "+442079460958"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter a phone number"),
        ("call me", "digits only"),
        ("abc", "digits only"),
        ("12345", "not valid"),
        ("555-0100", "not valid"),
        ("(212) 555-01433", "not valid"),
        ("+1 201 555", "not valid"),
        ("2015550143abc", "digits only"),
        ("+999 123 4567", "Enter a phone number"),
    ],
)
def test_normalise_phone_rejects_invalid_numbers(raw, message):
    with pytest.raises(ValueError, match=message):
        normalise_phone(raw, "US")


@pytest.mark.parametrize("raw", ["201 555 0143 ext 12", "201 555 0143 x12", "201-555-0143;ext=12"])
def test_normalise_phone_does_not_silently_drop_an_extension(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw, "US")


@pytest.mark.parametrize("raw", ["abc2015550143", "201-555-CALL"])
def test_normalise_phone_rejects_letters_among_the_digits(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw, "US")


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+12015550143", "+1 201-555-0143"),
        ("+442079460958", "+44 20 7946 0958"),
        ("+33142685300", "+33 1 42 68 53 00"),
    ],
)
def test_display_phone_formats_e164_for_people(e164, expected):
    assert display_phone(e164) == expected


@pytest.mark.parametrize("text", ["", "not a number", "2015550143"])
def test_display_phone_returns_unparseable_text_unchanged(text):
    assert display_phone(text) == text
