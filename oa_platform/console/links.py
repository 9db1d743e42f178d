"""Links from one console section to another that may not exist yet: the first URL name that resolves."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse


def first_url(*candidates: tuple[str, tuple]) -> str:
    """``candidates``: (url name, args) pairs, best first; "" when none resolves."""
    for name, args in candidates:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""
