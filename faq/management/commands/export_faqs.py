"""manage.py export_faqs SLUG [--format json|csv] [-o PATH]."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from faq.interchange import faq_export, faq_export_csv
from oa_platform.models import OfficialAccount


class Command(BaseCommand):
    help = "Export an account's FAQs as the JSON interchange format (default) or CSV, to stdout or a file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("-o", "--output", help="file to write (default: stdout)")

    def handle(self, *args, slug, format, output=None, **options):
        account = OfficialAccount.objects.filter(slug=slug).first()
        if account is None:
            raise CommandError(f"No account {slug!r}.")
        if format == "csv":
            text = faq_export_csv(account=account)
        else:
            text = json.dumps(faq_export(accounts=[account]), ensure_ascii=False, indent=2) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8", newline="")
        else:
            self.stdout.write(text, ending="")
