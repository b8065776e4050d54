"""Row ids that come from outside (URLs, query strings, forms, tablet batches).

Ids are PostgreSQL ``integer`` columns (32-bit). A larger number in a URL or a form made the
database refuse the query (a 500 on PostgreSQL, and on SQLite past 64 bits): such a number
names no row, so it is treated like any other unknown id.
"""
from werkzeug.routing import IntegerConverter

MAX_ID = 2147483647   # the largest PostgreSQL integer


def as_id(value) -> int | None:
    """``value`` (int or text of a whole number) as an int within the database's integer
    range (-MAX_ID - 1 .. MAX_ID), else None (not a whole number, or out of range)."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -MAX_ID - 1 <= number <= MAX_ID else None


class IdConverter(IntegerConverter):
    """Flask's ``<int:...>`` URL converter, bounded to MAX_ID: a larger number is a 404
    like any unknown id. Registered as ``int`` for every route (``app.create_app``)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def page_number(value) -> int:
    """A ``?page=`` number for ``request.args.get("page", 1, type=page_number)``: an int
    1..MAX_ID; raises ValueError otherwise, so the default (the first page) is used."""
    number = as_id(value)
    if number is None or number < 1:
        raise ValueError(value)
    return number
