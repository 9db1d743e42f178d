"""In-app sending of a list's notifications, set-based: ONE statement per chunk renders each person's message in
SQL, marks the notifications sent, writes the messages into the citizens' web-page conversations and the "sent"
step of each status history (PostgreSQL: data-modifying CTEs and ``nextval``).

What it sends is exactly what the per-message path (``dispatch.notification_send`` -> ``sending._inapp``) would:
- who: a queued notification of the list whose person has a conversation on the account's web page (matched by
  E.164 phone, or the citizen the row named, as ``selectors.recipient_reach``; the newest conversation wins);
- text: the version's body in the person's language (the named citizen's, else the web-page citizen's) with
  every ((placeholder)) replaced once, left to right, by the row's value as plain text (``rendering.render``: a
  value that itself looks like ((x)) or holds HTML stays as it is), then the link on its own line;
- a system message in that conversation (the web type sends nothing over HTTP), and once committed the
  person's open chat pages are told to fetch it (``live.citizens_conversations_changed``: for the whole chunk,
  one Redis call finds who has a page open, then one ``conversation.changed`` group send per open page; the
  per-message path tells the one page the same way).
Everything else (no web-page conversation, a missing value, in-app not first in the account's order, its daily
limit reached) is left queued for the per-message path, which plans another channel.

Exactly once: the UPDATE keeps only rows still queued (re-checked on each row after its lock), and the messages
and events are inserted from what that UPDATE returned, so a chunk run twice, or two workers on one range, send
each message once; a cancelled list's notifications are no longer queued, and the statement itself sends nothing
for a list that is no longer sending or whose "do not send after" time (``expires_at``) has passed. A message id
is drawn with ``nextval`` in the UPDATE and written as the notification's ``provider_message_id``
("msg-<id>", as before).
"""

from __future__ import annotations

import datetime as dt
import json
import zlib

from django.db import connection, transaction

from broadcasts.personal.models import CHANNEL_INAPP, Notification, RecipientList, StatusEvent, TemplateVersion
from broadcasts.personal.rendering import PLACEHOLDER_RE
from oa_platform import live
from oa_platform.models import Citizen, Conversation, Message

# Characters Python's str.strip() removes that matter in a spreadsheet cell: a value of only these is missing.
BLANKS = " \t\r\n\u00a0\u3000"


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _bind(params: dict, value) -> str:
    """A named parameter for ``value`` (the rendering pieces are many; names keep them apart from the rest)."""
    name = f"r{len(params)}"
    params[name] = value
    return f"%({name})s"


def _one_body(text: str, link: str, values_sql: str, params: dict) -> tuple[str, str]:
    """``concat(...)`` of the literal pieces and the values (one pass, no re-substitution), and the condition
    that every placeholder of ``text`` has a non-blank value."""
    parts, names = [], []
    position = 0
    for match in PLACEHOLDER_RE.finditer(text):
        if match.start() > position:
            parts.append(_bind(params, text[position : match.start()]))
        name = match.group(1).strip().lower()
        parts.append(f"({values_sql} ->> {_bind(params, name)})")
        names.append(name)
        position = match.end()
    if position < len(text):
        parts.append(_bind(params, text[position:]))
    if link:
        parts.append(_bind(params, f"\n{link}"))
    rendered = f"concat({', '.join(parts)})" if parts else "''"
    blanks = _bind(params, BLANKS) if names else ""
    checks = [
        f"btrim(coalesce({values_sql} ->> {_bind(params, name)}, ''), {blanks}) <> ''" for name in dict.fromkeys(names)
    ]
    return rendered, " AND ".join(checks) or "TRUE"


def body_sql(version: TemplateVersion, *, language_sql: str, values_sql: str, params: dict) -> tuple[str, str]:
    """SQL rendering ``version``'s in-app text (``dispatch.text_for`` for a non-SMS channel) in the language that
    ``language_sql`` gives, from the jsonb ``values_sql``; and the SQL condition that no value it uses is blank.
    The language picks the body as ``TemplateVersion.body_for`` does (en, zh*, else Vietnamese). Its values are
    added to ``params`` as named parameters."""
    branches = []
    if version.body_en:
        branches.append((f"{language_sql} = 'en'", version.body_en))
    if version.body_zh:
        branches.append((f"{language_sql} LIKE 'zh%%'", version.body_zh))
    text, ok = _one_body(version.body_vi, version.link, values_sql, params)
    if not branches:
        return text, ok
    case_text, case_ok = "CASE", "CASE"
    for condition, body in branches:
        b_text, b_ok = _one_body(body, version.link, values_sql, params)
        case_text += f" WHEN {condition} THEN {b_text}"
        case_ok += f" WHEN {condition} THEN {b_ok}"
    return f"{case_text} ELSE {text} END", f"({case_ok} ELSE {ok} END)"


_sequences: dict[str, str] = {}


def _message_sequence() -> str:
    """The sequence behind the message ids (looked up once per database and process)."""
    alias = connection.settings_dict["NAME"]
    if alias not in _sequences:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Message._meta.db_table])
            _sequences[alias] = cursor.fetchone()[0]
    return _sequences[alias]


def lock_daily_limit(account_id: int) -> None:
    """Serialise the in-app sends of one account for the rest of the transaction (only where in-app has a daily
    limit: two workers must not both read the same count and overshoot it)."""
    key = zlib.crc32(f"personal-inapp-{account_id}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def send_range(
    *,
    list_id: int,
    account_id: int,
    version: TemplateVersion,
    first_id: int,
    last_id: int,
    now: dt.datetime,
    limit: int | None = None,
) -> int:
    """Send in-app, in one statement, the queued notifications of list ``list_id`` with ids in [first_id,
    last_id] whose person has a web-page conversation in the account (at most ``limit`` of them: the daily
    limit left). Returns how many were sent. Call inside a transaction; PostgreSQL only. Once it commits, the
    citizens who have the chat page open get their message live (one Redis call for the chunk, then one group send
    per open page; ids only, never the text, go through the channel layer)."""
    if limit is not None and limit <= 0:
        return 0
    language = "CASE WHEN d.own_citizen IS NOT NULL THEN d.own_language ELSE d.web_language END"
    params: dict = {}
    rendered, ok = body_sql(version, language_sql="d.language", values_sql="d.v", params=params)
    limit_sql = "LIMIT %(limit)s" if limit is not None else ""
    sql = f"""
WITH due AS (
    SELECT n.id, n.citizen_id AS own_citizen, n.language AS own_language, n.personalisation AS v,
           t.conversation_id, t.citizen_id, t.language AS web_language
    FROM {_t(Notification)} n
    JOIN LATERAL (
        SELECT x.conversation_id, x.citizen_id, x.language FROM (
            -- by phone, then by the citizen the row named: two index probes (an OR would scan every citizen)
            SELECT cv.id AS conversation_id, c.id AS citizen_id, c.language
            FROM {_t(Citizen)} c JOIN {_t(Conversation)} cv ON cv.citizen_id = c.id AND cv.account_id = %(account)s
            WHERE n.phone <> '' AND c.phone <> '' AND c.phone = n.phone AND c.channel = %(web)s
              AND (c.account_id = %(account)s OR c.account_id IS NULL)
            UNION ALL
            SELECT cv.id, c.id, c.language
            FROM {_t(Citizen)} c JOIN {_t(Conversation)} cv ON cv.citizen_id = c.id AND cv.account_id = %(account)s
            WHERE c.id = n.citizen_id AND c.channel = %(web)s AND (c.account_id = %(account)s OR c.account_id IS NULL)
        ) x
        ORDER BY x.conversation_id DESC LIMIT 1
    ) t ON TRUE
    WHERE n.recipient_list_id = %(list)s AND n.id BETWEEN %(first)s AND %(last)s
      AND n.status = %(queued)s AND n.purged_at IS NULL AND n.token_id IS NULL
      AND (n.scheduled_for IS NULL OR n.scheduled_for <= %(now)s)
      -- the list as it is now: still sending (not cancelled) and not past its "do not send after" time
      AND EXISTS (SELECT 1 FROM {_t(RecipientList)} l WHERE l.id = %(list)s AND l.status = %(sending)s
                  AND (l.expires_at IS NULL OR l.expires_at > %(now)s))
    ORDER BY n.id {limit_sql}
), languaged AS (
    SELECT d.*, {language} AS language FROM due d
), rendered AS MATERIALIZED (  -- computed once, whatever join the UPDATE below uses
    SELECT d.id, d.conversation_id, d.citizen_id, d.language, {rendered} AS body FROM languaged d WHERE {ok}
), sent AS (
    UPDATE {_t(Notification)} n
    SET status = %(sent)s, channel = %(inapp)s, tried_channels = %(tried)s::jsonb, language = r.language,
        body = r.body, reason = '', segments = 0, cost = 0, sent_at = %(now)s,
        provider_message_id = 'msg-' || nextval(%(sequence)s::regclass)
    FROM rendered r
    WHERE n.id = r.id AND n.status = %(queued)s
    RETURNING n.id, r.conversation_id, r.citizen_id, r.body, n.provider_message_id
), messages AS (
    INSERT INTO {_t(Message)} (id, conversation_id, direction, sender, channel, text, created_at, faq_key,
        decision, suggestions, delivery_status, delivery_attempts, delivery_error)
    SELECT substr(s.provider_message_id, 5)::bigint, s.conversation_id, %(out)s, %(system)s, %(web)s, s.body,
        %(now)s, '', '', '[]'::jsonb, '', 0, ''
    FROM sent s
), events AS (
    INSERT INTO {_t(StatusEvent)} (notification_id, status, channel, reason, at)
    SELECT s.id, %(sent)s, %(inapp)s, '', %(now)s FROM sent s
)
-- who got a message, for the live push (ids only: two arrays in one row, no row per message for Python)
SELECT COUNT(*), array_agg(s.citizen_id), array_agg(s.conversation_id) FROM sent s
"""
    params |= {
        "account": account_id,
        "web": Citizen.CHANNEL_WEB,
        "list": list_id,
        "first": first_id,
        "last": last_id,
        "queued": Notification.STATUS_QUEUED,
        "sending": RecipientList.STATUS_SENDING,
        "now": now,
        "sent": Notification.STATUS_SENT,
        "inapp": CHANNEL_INAPP,
        "tried": json.dumps([CHANNEL_INAPP]),
        "sequence": _message_sequence(),
        "out": Message.DIRECTION_OUT,
        "system": Message.SENDER_SYSTEM,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count, citizens, conversations = cursor.fetchone()
    if count:
        # Once committed, the citizens' open chat pages fetch their message (ids only go through the channel layer).
        changed = dict(zip(citizens, conversations, strict=True))
        transaction.on_commit(lambda: live.citizens_conversations_changed(account_id=account_id, conversations=changed))
    return count
