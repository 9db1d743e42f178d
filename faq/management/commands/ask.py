"""manage.py ask SLUG: one question per stdin line -> one JSON object per line (an operator's tool).

Runs the chat engine's order (small talk and commands first, then the FAQ matcher) without storing anything:
no messages, no unanswered questions.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from faq.intents import detect_intent
from faq.services import faq_match
from oa_platform.models import OfficialAccount


class Command(BaseCommand):
    help = "Match questions read from stdin (one per line) and print one JSON result per line."
    stealth_options = ("stdin",)  # call_command("ask", slug, stdin=io.StringIO(...)) in tests

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        account = OfficialAccount.objects.filter(slug=slug).first()
        if account is None:
            raise CommandError(f"No account {slug!r}.")
        stdin = options.get("stdin") or sys.stdin
        for line in stdin:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            self.stdout.write(json.dumps(self.answer(account, text), ensure_ascii=False))
            self.stdout.flush()

    @staticmethod
    def answer(account, text: str) -> dict:
        intent = detect_intent(text, language=account.language)
        if intent is not None:
            out = {"text": text, "decision": "fallback", "faq": None, "score": 0.0, "suggestions": []}
            out["intent"] = intent.kind
            if intent.topic:
                out["topic"] = intent.topic
            return out
        result = faq_match(account=account, text=text)
        return {
            "text": text,
            "decision": result.decision,
            "faq": result.faq if result.decision in ("answer", "suggest") else None,
            "score": round(float(result.score), 1),
            "suggestions": [c.key for c in result.suggestions],
        }
