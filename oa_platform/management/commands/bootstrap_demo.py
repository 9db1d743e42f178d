"""Demo data for the embedded default: the five sample accounts with their FAQs, and demo staff logins.

Idempotent: run on every ``make run``; it creates what is missing and prints the logins.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from oa_platform.models import ApiToken, Membership, OfficialAccount
from oa_platform.services import token_issue

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "faq_corpus.json"
# Two people so the two-person rule can be tried: one drafts, the other approves.
DEMO_USERS = [("demo", Membership.ROLE_MANAGER), ("demo-approver", Membership.ROLE_APPROVER)]


class Command(BaseCommand):
    help = "Load the demo accounts, FAQs and staff logins (idempotent) and print the logins."

    def handle(self, *args, **options):
        call_command("import_faqs", str(FIXTURE), verbosity=0)
        credentials_file = settings.VAR_DIR / "demo_logins.txt"
        if credentials_file.exists() and get_user_model().objects.filter(username=DEMO_USERS[0][0]).exists():
            self.stdout.write(credentials_file.read_text())
            return
        with transaction.atomic():
            lines = self._create_logins()
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text("\n".join(lines) + "\n")
        credentials_file.chmod(0o600)
        self.stdout.write("\n".join(lines))

    def _create_logins(self) -> list[str]:
        User = get_user_model()
        accounts = list(OfficialAccount.objects.order_by("pk"))
        lines = ["", "Demo staff logins (admin at /admin/, staff inbox at /staff/):"]
        for username, role in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            user, _created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            user.is_staff = True
            user.set_password(password)
            user.save()
            for account in accounts:
                Membership.objects.get_or_create(user=user, account=account, defaults={"role": role})
            lines.append(f"  {username:<14} password {password:<14} ({role} of all {len(accounts)} demo accounts)")
        first = accounts[0] if accounts else None
        if first is not None:
            _token, raw = token_issue(account=first, name="demo", scopes=ApiToken.ALL_SCOPES)
            lines += [
                f"Demo API token of {first.slug}: {raw}",
                f"  curl -s -H 'Authorization: Token {raw}' -H 'Content-Type: application/json' "
                f'-d \'{{"citizen_id": "demo-1", "text": "lam cccd o dau"}}\' '
                f"http://localhost:{settings.PORT}/api/v1/accounts/{first.slug}/messages/",
            ]
        lines.append(f"(kept in {settings.VAR_DIR / 'demo_logins.txt'}; delete it to make new ones)")
        return lines
