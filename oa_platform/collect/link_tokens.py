"""The personal link in a form's message (/f/<slug>/<id>/p/<token>/): a signed (form, citizen) pair, so that the
person who opens it in a browser answers as themselves (oa_platform.collect.links)."""

from __future__ import annotations

from django.core import signing

SALT = "oa.collect.link"
# A recurring form's message is answered the same day; a month covers a once-off form's longest open window.
MAX_AGE_S = 31 * 24 * 3600


def link_token(*, form_id: int, citizen_id: int) -> str:
    return signing.dumps([form_id, citizen_id], salt=SALT, compress=False)


def link_read(token: str, *, form_id: int) -> int | None:
    """The citizen id of a token made for ``form_id``, or None (tampered, expired, another form's)."""
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE_S)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        return None
    return value[1] if value[0] == form_id else None
