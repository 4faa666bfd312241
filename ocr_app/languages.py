"""The languages a note can be in, by code, with names people read."""

NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "zh": "Chinese",
}


def choices(codes) -> list[tuple[str, str]]:
    """(code, name) pairs, English first, then by name."""
    return sorted(((code, NAMES.get(code, code)) for code in codes), key=lambda item: (item[0] != "en", item[1]))
