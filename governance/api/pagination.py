"""Pagination for every list: ``count``, ``next``, ``previous``, ``results``."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from .fields import is_count


class Pagination(PageNumberPagination):
    """``count``, ``next``, ``previous``, ``results``; ``page_size`` from 1 to 1,000 (default 20).

    DRF ignores a ``page_size`` it cannot read; here it is a 400 naming the parameter, like any
    other bad input.
    """

    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int | None:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not is_count(value) or int(value) > self.max_page_size:
            message = _("Enter a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return int(value)

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        # DRF reads ``?page=`` as page 1 and ``?page=x`` as a page that does not exist (404).
        value = request.query_params.get(self.page_query_param)
        # Any whole number from 1 is a page; past the last one it is a page that does not exist (404).
        if value is not None and value not in self.last_page_strings and not (
            value.isascii() and value.isdigit() and int(value) > 0
        ):
            raise exceptions.ValidationError({self.page_query_param: [_("Enter a page number from 1.")]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            elif parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters
