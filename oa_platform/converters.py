"""The URL path converter of database ids, registered once as ``<id:...>`` (oa_platform.apps): every route that
takes a row's id uses it, so a view never sees an id its bigint column cannot hold."""

from __future__ import annotations

# The largest id a bigint (PostgreSQL, SQLite) column holds.
ID_MAX = 2**63 - 1


class IdConverter:
    """1 to 19 digits whose value fits a bigint; a longer or larger number does not match the route (a 404),
    where ``<int:...>`` would pass it to the view and each view had to guard against it."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            raise ValueError("id out of range")  # Django: this route does not match
        return number

    def to_url(self, value) -> str:
        number = int(value)
        if not 0 <= number <= ID_MAX:
            raise ValueError("id out of range")  # reverse() then fails with NoReverseMatch
        return str(number)
