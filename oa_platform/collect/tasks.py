"""Thin Celery tasks of information collection (beat entries in oa_platform.collect.schedule)."""

from celery import shared_task

from oa_platform.collect.services import responses_purge_expired, rounds_open_due, rounds_remind_due


@shared_task(name="collect.open_due_rounds")
def open_due_rounds() -> dict:
    return {"opened": rounds_open_due()}


@shared_task(name="collect.purge_expired")
def purge_expired() -> dict:
    return {"deleted": responses_purge_expired()}


@shared_task(name="collect.remind_due")
def remind_due() -> dict:
    return {"reminded_rounds": rounds_remind_due()}
