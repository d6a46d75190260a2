"""How residents' personal data is shown in lists (PIPL: mask it), for every app."""


def mask_name(value: str | None) -> str:
    """张** — the family name only."""
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)
