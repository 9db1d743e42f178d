from django.core.management.base import BaseCommand, CommandError

from oa_platform.errors import DomainError
from oa_platform.models import ApiToken, OfficialAccount
from oa_platform.services import token_issue


class Command(BaseCommand):
    help = "Create an API token for an account and print it (it is stored hashed and shown only now)."

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, help="account slug")
        parser.add_argument("--name", required=True, help="what the token is for, e.g. 'sms-gateway'")
        parser.add_argument(
            "--scopes",
            default=f"{ApiToken.SCOPE_CHAT},{ApiToken.SCOPE_READ}",
            help=f"comma-separated, from: {', '.join(ApiToken.ALL_SCOPES)}",
        )

    def handle(self, *args, **options):
        account = OfficialAccount.objects.filter(slug=options["account"]).first()
        if account is None:
            raise CommandError(f"No account with slug {options['account']!r}.")
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        try:
            _token, raw = token_issue(account=account, name=options["name"], scopes=scopes)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(raw)
