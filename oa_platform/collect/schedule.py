"""The collection's beat entries (merged into settings.CELERY_BEAT_SCHEDULE)."""

# Every 30 s: a daily 8:00 round opens by 8:00:30; a tick with nothing due is one query over the few
# recurring forms. Opening twice is harmless (unique form + opens_at).
OPEN_ROUNDS_EVERY_S = 30.0
# Retention is counted in days: once an hour is plenty.
PURGE_EVERY_S = 3600.0

BEAT_SCHEDULE = {
    "collect-open-rounds": {
        "task": "collect.open_due_rounds",
        "schedule": OPEN_ROUNDS_EVERY_S,
        "options": {"expires": 60},
    },
    # reminders are due at a minute of the clock too: the same 30 s tick
    "collect-remind": {"task": "collect.remind_due", "schedule": OPEN_ROUNDS_EVERY_S, "options": {"expires": 60}},
    "collect-purge": {"task": "collect.purge_expired", "schedule": PURGE_EVERY_S, "options": {"expires": 600}},
}
