"""Thin Celery tasks: take ids, call one function, return a small dict."""

from celery import shared_task

from broadcasts import fanout


@shared_task(name="broadcasts.dispatch", ignore_result=True)
def dispatch_due() -> dict:
    """Beat, every few seconds: claim due notices, sweep abandoned chunks, finish and expire notices."""
    return fanout.dispatcher_tick()


@shared_task(name="broadcasts.process_chunk", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def process_chunk(chunk_id: int) -> dict:
    return fanout.chunk_process(chunk_id=chunk_id)
