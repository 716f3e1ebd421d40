"""Rules for free text that people send us."""

import unicodedata


def unstorable(text: str) -> bool:
    """True when the text holds characters the database or email cannot carry (NUL, other control
    characters, lone surrogates); tabs and line breaks are fine."""
    return any(unicodedata.category(character) in ("Cc", "Cs") and character not in "\t\n\r" for character in text)
