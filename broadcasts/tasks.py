"""Thin Celery tasks: take ids, call one function, return a small dict."""

from celery import shared_task
from django.db import OperationalError

from broadcasts import fanout


@shared_task(name="broadcasts.dispatch", ignore_result=True)
def dispatch_due() -> dict:
    """Beat, every few seconds: claim due notices, sweep abandoned chunks, finish and expire notices."""
    return fanout.dispatcher_tick()


# A lost database connection (restart, "too many clients") is retried with backoff instead of waiting for the
# sweeper; the chunk is handed back before the retry (see fanout.chunk_process).
@shared_task(
    name="broadcasts.process_chunk",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=8,
)
def process_chunk(chunk_id: int) -> dict:
    return fanout.chunk_process(chunk_id=chunk_id)
