"""The dispatcher's beat entry (merged into settings.CELERY_BEAT_SCHEDULE)."""

# Every 2 s: a notice approved "now" leaves within about 2 s, and a tick with nothing to do is two cheap
# indexed queries. Ticks never overlap (the periodic jobs' lock, oa_platform.periodic).
DISPATCH_EVERY_S = 2.0

BEAT_SCHEDULE = {
    "broadcasts-dispatch": {"task": "broadcasts.dispatch", "schedule": DISPATCH_EVERY_S, "options": {"expires": 10}},
}
