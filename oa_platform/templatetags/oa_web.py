"""Template filters of the citizen pages."""

from django import template

from oa_platform.url_policy import is_web_url

register = template.Library()


@register.filter
def web_url(value: str) -> str:
    """The value if it is an http(s) URL, else "" (stored URLs are validated; this is defence in depth)."""
    return value if isinstance(value, str) and is_web_url(value) else ""
