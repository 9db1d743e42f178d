"""Creating an approved list's notifications, set-based: ONE ``INSERT ... SELECT`` from its valid rows (their
phone as E.164, their values as the notification's personalisation), each
rendered in SQL (``inapp.body_sql``) in the language of the citizen the row names (else Vietnamese), with the
"queued" step of every status history inserted by the same statement. PostgreSQL only; ``lists.list_approve``
keeps its row-by-row loop for the embedded SQLite default.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from broadcasts.personal.inapp import body_sql
from broadcasts.personal.models import E164_SQL, VALUE_COLUMNS, ListRow, Notification, RecipientList, StatusEvent
from oa_platform.models import Citizen

# After creating at least this many notifications, refresh the table's statistics at once: the chunks start right
# after the commit, long before autovacuum would notice, and with statistics from before the insert the planner
# takes a list's 5,000 queued rows for one and picks nested loops that rescan them (minutes, not 0.2 s). Below it
# a stale plan costs at most ~0.1 s per chunk.
ANALYZE_AFTER = 1_000


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def list_notifications_create(
    *, recipient_list: RecipientList, now: dt.datetime, scheduled_for: dt.datetime | None
) -> int:
    """One queued notification per valid row of ``recipient_list`` (in row order), and its "queued" event.
    Returns how many were created. Call inside the approving transaction (which holds the list's row lock and
    moves it out of "pending approval", so it never runs twice for one list)."""
    params: dict = {}
    # the row's values as the notification keeps them (a valid row has every one)
    names = recipient_list.columns
    pairs = ", ".join(f"%(name{i})s, r.{column}" for i, column in enumerate(VALUE_COLUMNS[: len(names)]))
    values = f"jsonb_build_object({pairs})"
    params |= {f"name{i}": name for i, name in enumerate(names)}
    rendered, _ok = body_sql(recipient_list.version, language_sql="d.language", values_sql="d.v", params=params)
    sql = f"""
WITH made AS (
    INSERT INTO {_t(Notification)} (account_id, version_id, recipient_list_id, citizen_id, token_id, phone,
        citizen_ref, language, personalisation, body, reference, fingerprint, channel, tried_channels, status,
        reason, provider_message_id, segments, cost, scheduled_for, created_at)
    SELECT %(account)s, %(version)s, %(list)s, d.citizen_id, NULL, d.phone, d.citizen_ref, d.language, d.v,
        {rendered}, '', '', '', '[]'::jsonb, %(queued)s, '', '', 0, 0, %(scheduled)s, %(now)s
    FROM (
        SELECT r.number, {E164_SQL} AS phone, r.citizen_ref, {values} AS v, c.id AS citizen_id,
               COALESCE(c.language, 'vi') AS language
        FROM {_t(ListRow)} r
        LEFT JOIN LATERAL (
            SELECT ci.id, ci.language FROM {_t(Citizen)} ci
            WHERE ci.account_id = %(account)s AND ci.channel = ANY(%(channels)s) AND ci.external_id = r.citizen_ref
            ORDER BY ci.id LIMIT 1
        ) c ON r.citizen_ref <> ''
        WHERE r.recipient_list_id = %(list)s AND r.problems IS NULL
    ) d
    ORDER BY d.number
    RETURNING id
)
INSERT INTO {_t(StatusEvent)} (notification_id, status, channel, reason, at)
SELECT id, %(queued)s, '', '', %(now)s FROM made
"""
    params |= {
        "account": recipient_list.account_id,
        "version": recipient_list.version_id,
        "list": recipient_list.pk,
        "queued": Notification.STATUS_QUEUED,
        "scheduled": scheduled_for,
        "now": now,
        # every channel: the index on (account, channel, external_id) is then usable without a channel
        "channels": [value for value, _label in Citizen.CHANNEL_CHOICES],
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = cursor.rowcount
        if created >= ANALYZE_AFTER:  # sees this transaction's own rows (a sample: ~0.2 s at a million)
            cursor.execute(f"ANALYZE {_t(Notification)}")
        return created
