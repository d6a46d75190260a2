"""The API's JSON parser: DRF's, refusing bodies nested deeper than ``MAX_DEPTH`` with a 400.

Python's decoder gives up on deep nesting with a RecursionError, which would be a 500 (even on the
unauthenticated token endpoint); no body of this API nests more than a few levels.
"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def depth(data: Any) -> int:
    """How deeply ``data`` nests lists and objects (iteratively: no recursion to run out of)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        too_deep = _("The JSON body is nested too deeply (at most %(n)d levels).") % {"n": MAX_DEPTH}
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(too_deep) from exc
        if depth(data) > MAX_DEPTH:
            raise ParseError(too_deep)
        return data
