"""Strict JSON fields for request bodies and query parameters.

DRF's fields coerce: 12 becomes "12" for a text field, "yes" or 1 becomes true. "JSON in" means the
types of the schema: a client sending a number where text belongs has a bug we should tell it about.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

# Ids are PostgreSQL bigints: a larger number names nothing, and is refused before it reaches SQL.
MAX_ID = 2**63 - 1


def is_count(value: str) -> bool:
    """A whole number from 1 to the largest id, as a query parameter may give it."""
    return value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": gettext_lazy("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSlugRelatedField(serializers.SlugRelatedField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        # What the database cannot even compare (NUL, lone surrogates) matches nothing.
        try:
            ProhibitNullCharactersValidator()(data)
            ProhibitSurrogateCharactersValidator()(data)
        except (DjangoValidationError, serializers.ValidationError):
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.encode("unicode_escape").decode())
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class QuerySerializer(serializers.Serializer):
    """Query parameters. One given empty (``?until=``) is an error, not a parameter left out."""

    def to_internal_value(self, data: Any) -> Any:
        names = [str(field.field_name) for field in self.fields.values()]
        empty = {name: [_("Give a value or leave the parameter out.")] for name in names if data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)
