"""Thin Celery tasks: take ids, call one function, return a small dict."""

from celery import shared_task

from broadcasts import fanout

# process_chunk lives beside the chunk code it runs (the dispatcher enqueues it, see broadcasts.sending);
# imported here so the worker, which autodiscovers <app>.tasks, registers it.
from broadcasts.sending import process_chunk

__all__ = ["dispatch_due", "process_chunk"]


@shared_task(name="broadcasts.dispatch", ignore_result=True)
def dispatch_due() -> dict:
    """Beat, every few seconds: claim due notices, sweep abandoned chunks, finish and expire notices."""
    return fanout.dispatcher_tick()
