"""manage.py import_faqs PATH [--account SLUG]: import FAQ content (JSON interchange or, with --account, CSV)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from faq.interchange import faq_import, faq_import_csv, parse_json
from oa_platform.errors import DomainError
from oa_platform.models import OfficialAccount


class Command(BaseCommand):
    help = (
        "Import FAQs from the JSON interchange format (creates missing accounts, updates entries by key, "
        "idempotent; a malformed file is rejected whole), or a CSV file of one account with --account."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--account", help="slug of the account a CSV file belongs to")
        parser.add_argument("--format", choices=["json", "csv"], help="default: from the file extension")

    def handle(self, *args, path, account=None, format=None, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        fmt = format or ("csv" if file.suffix.lower() == ".csv" else "json")
        data = file.read_bytes()
        try:
            if fmt == "csv":
                if not account:
                    raise CommandError("A CSV file needs --account SLUG.")
                target = OfficialAccount.objects.filter(slug=account).first()
                if target is None:
                    raise CommandError(f"No account {account!r}.")
                report = faq_import_csv(account=target, data=data)
            else:
                report = faq_import(document=parse_json(data))
        except DomainError as exc:
            raise CommandError(f"{path}: nothing imported. {exc.message}") from exc
        if options["verbosity"] > 0:
            self.stdout.write(report.as_text())
