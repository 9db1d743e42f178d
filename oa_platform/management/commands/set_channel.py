"""Set an account's Zalo, WeChat or generic channel credentials.

    python manage.py set_channel SLUG zalo --app-id ID --secret KEY --access-token TOKEN --api-base URL \
        [--app-secret APP_SECRET --refresh-token REFRESH_TOKEN]
    python manage.py set_channel SLUG wechat --token T --app-id ID --aes-key KEY --secret APPSECRET --api-base URL
    python manage.py set_channel SLUG generic --secret S --callback-url URL
    python manage.py set_channel SLUG zalo --disable

Only the options given change. Messages still queued on the channel are queued for sending again, so a
renewed access token gets stuck replies out.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from oa_platform.channel_types.wechat import AESCipher
from oa_platform.conversations.outbox import send_outbound_message
from oa_platform.models import ChannelConfig, Citizen, Message, OfficialAccount

OPTIONS = {
    "app_id": "app_id",
    "secret": "secret",
    "access_token": "access_token",
    "api_base": "api_base",
    "token": "token",
    "aes_key": "encoding_aes_key",
    "callback_url": "callback_url",
    "app_secret": "app_secret",
    "refresh_token": "refresh_token",
}
# Where each provider's API lives when --api-base is not given.
DEFAULT_API_BASE = {
    Citizen.CHANNEL_ZALO: "https://openapi.zalo.me",
    Citizen.CHANNEL_WECHAT: "https://api.weixin.qq.com",
}


class Command(BaseCommand):
    help = "Set the credentials of an account's Zalo OA, WeChat OA or generic webhook channel."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("kind", choices=[Citizen.CHANNEL_ZALO, Citizen.CHANNEL_WECHAT, Citizen.CHANNEL_GENERIC])
        parser.add_argument("--app-id")
        parser.add_argument(
            "--secret", help="Zalo: OA secret key; WeChat: AppSecret (renews access tokens); generic: HMAC secret"
        )
        parser.add_argument("--access-token")
        parser.add_argument("--api-base")
        parser.add_argument("--token", help="WeChat token")
        parser.add_argument("--aes-key", help="WeChat EncodingAESKey (43 characters)")
        parser.add_argument("--callback-url", help="generic channel: where replies are POSTed")
        parser.add_argument("--app-secret", help="Zalo app secret key, to renew access tokens")
        parser.add_argument("--refresh-token", help="Zalo OA refresh token, to renew access tokens")
        parser.add_argument("--disable", action="store_true")

    def handle(self, *args, slug, kind, **options):
        account = OfficialAccount.objects.filter(slug=slug).first()
        if account is None:
            raise CommandError(f"No account with slug {slug!r}.")
        if options.get("aes_key"):
            try:
                AESCipher(options["aes_key"], options.get("app_id") or "")
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        with transaction.atomic():
            config, created = ChannelConfig.objects.select_for_update().get_or_create(account=account, kind=kind)
            changed = []
            for option, field in OPTIONS.items():
                if options.get(option) is not None:
                    setattr(config, field, options[option])
                    changed.append(field)
            if created and not config.api_base and kind in DEFAULT_API_BASE:
                config.api_base = DEFAULT_API_BASE[kind]
            config.is_enabled = not options["disable"]
            try:
                config.full_clean(exclude=["account"])
            except ValidationError as exc:
                raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
            config.save()
            queued = list(
                Message.objects.filter(
                    conversation__account=account,
                    channel=kind,
                    direction=Message.DIRECTION_OUT,
                    delivery_status=Message.DELIVERY_QUEUED,
                ).values_list("pk", flat=True)
            )
            if config.is_enabled and queued:
                transaction.on_commit(lambda: [send_outbound_message.delay(pk) for pk in queued])
        secret_fields = {"secret", "access_token", "token", "encoding_aes_key", "app_secret", "refresh_token"}
        shown = ", ".join(f if f not in secret_fields else f"{f} (hidden)" for f in changed) or "nothing"
        self.stdout.write(
            f"{'Created' if created else 'Updated'} {kind} channel of {slug}: {shown}; "
            f"{'enabled' if config.is_enabled else 'disabled'}; {len(queued)} queued message(s) re-sent."
        )
