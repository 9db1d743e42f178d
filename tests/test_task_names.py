"""Celery task names are part of the deployment's contract: a message already queued names its task, and a
worker that no longer knows that name drops it. So every task names itself (``name=``) and the names never
change when code moves (issue 13)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

from tests.test_import_graph import ROOT, project_modules

# The names messages in a running deployment carry: never change one (add a new task instead).
TASK_NAMES = {
    "broadcasts.dispatch",  # beat, every 2 s (broadcasts.schedule)
    "broadcasts.process_chunk",  # one per chunk of a notice's deliveries
    "oa_platform.tasks.process_webhook_event",  # one per stored Zalo/generic webhook event
    "oa_platform.tasks.send_outbound_message",  # one per outbound message on a provider channel
    "oa_platform.tasks.outbound_retry_due",  # beat, every 15 s (oa_platform.webhooks.schedule)
    "personal.send_notification",  # one per personal notification (broadcasts.personal.dispatch)
    "personal.status_callback",  # one per status change of a notification whose token has a callback URL
    "personal.send_due",  # beat, every 30 s (broadcasts.personal.schedule)
    "personal.send_list_chunk",  # one per 200 notifications of an approved recipient list
    "personal.purge",  # beat, hourly: personal data deleted after PERSONAL_RETENTION_DAYS
    "collect.open_due_rounds",  # beat, every 30 s (oa_platform.collect.schedule)
    "collect.purge_expired",  # beat, hourly (oa_platform.collect.schedule)
    "collect.remind_due",  # beat, every 30 s (oa_platform.collect.schedule)
    "collect.tell_round",  # one per 10,000 people told of a round or reminded (oa_platform.collect.announce)
}


def test_a_fresh_worker_process_registers_exactly_these_task_names():
    """As a worker starts (Django set up, <app>.tasks autodiscovered), in a process no test has touched."""
    code = (
        "import json; from oa_platform.celery import app; import django; django.setup(); "
        "app.loader.import_default_modules(); "
        "print(json.dumps(sorted(n for n in app.tasks if not n.startswith('celery.'))))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "oa_platform.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert set(json.loads(out.stdout.strip().splitlines()[-1])) == TASK_NAMES


def _task_decorators(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                func = call.func if call else decorator
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("shared_task", "task"):
                    yield node.name, call


def test_every_task_in_the_source_names_itself():
    unnamed, names = [], set()
    for module, path in project_modules(ROOT).items():
        for function, call in _task_decorators(ast.parse(path.read_text(encoding="utf-8"))):
            keywords = {k.arg: k.value for k in call.keywords} if call else {}
            if not isinstance(keywords.get("name"), ast.Constant):
                unnamed.append(f"{module}.{function}")
            else:
                names.add(keywords["name"].value)
    assert not unnamed, f"tasks without an explicit name= (use their current '<module>.<function>'): {unnamed}"
    assert names == TASK_NAMES
