"""Normalise the ways a prospect can be reached: email addresses and phone numbers."""

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def normalise_email(raw: str) -> str:
    """Return the address in the one form used for storage and de-duplication, or raise ValueError."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    # Mailbox names are case-insensitive at every provider a prospect uses; one lead per person.
    return checked.normalized.lower()


def normalise_phone(raw: str, default_region: str) -> str:
    """Return the number in E.164 (`+15550100100`), or raise ValueError."""
    # A letter in a personal number is a typo far more often than a vanity number.
    if any(character.isalpha() for character in raw):
        raise ValueError("Use digits only, for example (555) 010-0100.")
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a phone number, for example (555) 010-0100.") from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValueError("This phone number is not valid. Check the digits and area code.")
    if number.extension:
        # E.164 has no place for an extension; dropping it would leave a number that misses them.
        raise ValueError("Give a number that reaches you directly, without an extension.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """Return a stored E.164 number in the international format a person reads (other text as is)."""
    if not e164.startswith("+"):
        return e164
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
