"""The outbound retry beat entry (merged into settings.CELERY_BEAT_SCHEDULE)."""

# Every 15 s: the shortest back-off is 30 s, so a retry is at most 15 s late; a tick with nothing due is
# one indexed query.
RETRY_EVERY_S = 15.0

BEAT_SCHEDULE = {
    "outbound-retry-due": {
        "task": "oa_platform.tasks.outbound_retry_due",
        "schedule": RETRY_EVERY_S,
        "options": {"expires": 30},
    },
}
