"""Beat entries of personal notices (merged into CELERY_BEAT_SCHEDULE by oa_platform.settings)."""

BEAT_SCHEDULE = {
    # scheduled notifications become due to the second only when this runs: 30 s is the precision promised
    "personal-send-due": {"task": "personal.send_due", "schedule": 30.0},
    # personal data is deleted PERSONAL_RETENTION_DAYS after sending, to the hour
    "personal-purge": {"task": "personal.purge", "schedule": 3600.0},
}
