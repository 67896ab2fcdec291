"""URL converters shared by the API and the pages."""

from werkzeug.routing import IntegerConverter

from backend.models.base import MAX_INTEGER


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id the database can hold (1 … MAX_INTEGER), so a path like
    /households/99999999999999999999 matches no route (404) instead of overflowing a query."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)
