import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from oa_platform.logging import celery_handlers_redact

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oa_platform.settings")

app = Celery("oa_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A worker's own log handlers get the same redaction as settings.LOGGING's console handler.
after_setup_logger.connect(celery_handlers_redact, weak=False, dispatch_uid="oa_redact_root")
after_setup_task_logger.connect(celery_handlers_redact, weak=False, dispatch_uid="oa_redact_task")
