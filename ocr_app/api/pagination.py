"""Pages of the notes list, with ``page`` and ``page_size`` checked as the schema describes them.

DRF's paginator quietly falls back to the default for a ``page_size`` it cannot
read; a client that sent ``page_size=null`` or ``500`` would never learn that
its request was not what it got.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 100


class PageParamsSerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, help_text="1-based.")
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, help_text="Notes per page (20 unless given)."
    )


class NotePagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        # A plain dict: DRF reads a blank form value as "not given", but page_size= is no integer.
        params = PageParamsSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)  # 400 validation_error naming the parameter
        self._checked = params.validated_data
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request) -> int:
        return self._checked.get("page_size", self.page_size)

    def get_page_number(self, request, paginator) -> int:
        return self._checked.get("page", 1)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": field.help_text,
                "schema": {"type": "integer", "minimum": field.min_value,
                           **({"maximum": field.max_value} if field.max_value else {})},
            }
            for name, field in PageParamsSerializer().fields.items()
        ]
