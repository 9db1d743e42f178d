"""Set an account's channel configuration, for every kind that has one (zalo, zns, wechat, generic, webhook,
sms): each option is a field of the kind's configuration schema (``channel_types.<kind>.config_fields``).

    python manage.py set_channel SLUG zalo --app-id ID --secret KEY --access-token TOKEN --api-base URL \
        [--app-secret APP_SECRET --refresh-token REFRESH_TOKEN]
    python manage.py set_channel SLUG wechat --token T --app-id ID --aes-key KEY --secret APPSECRET --api-base URL
    python manage.py set_channel SLUG generic --secret S --callback-url URL
    python manage.py set_channel SLUG zns --api-base URL --access-token T --template-id ID [--daily-quota N]
    python manage.py set_channel SLUG sms --api-base URL --access-token T [--rate-per-s 20 --burst 5 ...]
    python manage.py set_channel SLUG webhook --api-base URL --secret S
    python manage.py set_channel SLUG zalo --disable

Only the options given change; an option that is not a setting of the kind is refused (nothing stored), and so
is a value the field refuses. Messages still queued on the channel are queued for sending again, so a renewed
access token gets stuck replies out.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from oa_platform.channel_types import registry
from oa_platform.channel_types.wechat import AESCipher
from oa_platform.conversations.outbox import send_outbound_message
from oa_platform.models import ChannelConfig, Citizen, Message, OfficialAccount

# Every kind with a configuration row (the web page needs none).
KINDS = sorted(kind for kind in registry.TYPES if kind not in registry.UNCONFIGURED)
# Command-line option (argparse dest) -> ChannelConfig field, for every field of every kind's schema. The
# option is the field's name with dashes, except the WeChat AES key's historical ``--aes-key``.
RENAMED = {"encoding_aes_key": "aes_key"}
OPTIONS = {RENAMED.get(field, field): field for kind in KINDS for field in registry.TYPES[kind].config_fields}
HELP = {
    "secret": "Zalo: OA secret key; WeChat: AppSecret (renews access tokens); generic/webhook: HMAC secret",
    "token": "WeChat token",
    "aes_key": "WeChat EncodingAESKey (43 characters)",
    "callback_url": "generic channel: where replies are POSTed",
    "app_secret": "Zalo app secret key, to renew access tokens",
    "refresh_token": "Zalo OA refresh token, to renew access tokens",
    "daily_quota": "messages per day of the account's time zone (empty: the kind's default)",
    "honours_idempotency_key": "yes/no: the provider sends a message once per Idempotency-Key",
}
SECRET_FIELDS = {"secret", "access_token", "token", "encoding_aes_key", "app_secret", "refresh_token"}
# Where each provider's API lives when --api-base is not given.
DEFAULT_API_BASE = {
    Citizen.CHANNEL_ZALO: "https://openapi.zalo.me",
    Citizen.CHANNEL_WECHAT: "https://api.weixin.qq.com",
}


class Command(BaseCommand):
    help = "Set an account's channel configuration (any kind with one; the options of the kind's schema)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("kind", choices=KINDS)
        for option, field in OPTIONS.items():
            kinds = ", ".join(k for k in KINDS if field in registry.TYPES[k].config_fields)
            parser.add_argument(
                "--" + option.replace("_", "-"), dest=option, help=f"{HELP.get(option, field)} ({kinds})"
            )
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
        schema = registry.TYPES[kind].config_fields
        foreign = [o for o, field in OPTIONS.items() if options.get(o) is not None and field not in schema]
        if foreign:
            settings_of = ", ".join("--" + RENAMED.get(f, f).replace("_", "-") for f in schema)
            raise CommandError(
                f"{', '.join('--' + o.replace('_', '-') for o in foreign)}: not a setting of the {kind} channel "
                f"(its settings: {settings_of})."
            )
        with transaction.atomic():
            config, created = ChannelConfig.objects.select_for_update().get_or_create(account=account, kind=kind)
            changed = []
            for option, field in OPTIONS.items():
                if options.get(option) is not None:
                    setattr(config, field, _value(config, field, options[option]))
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
        shown = ", ".join(f if f not in SECRET_FIELDS else f"{f} (hidden)" for f in changed) or "nothing"
        self.stdout.write(
            f"{'Created' if created else 'Updated'} {kind} channel of {slug}: {shown}; "
            f"{'enabled' if config.is_enabled else 'disabled'}; {len(queued)} queued message(s) re-sent."
        )


YES, NO = {"yes", "true", "1", "on"}, {"no", "false", "0", "off"}


def _value(config: ChannelConfig, field: str, raw: str):
    """The option's text for ``field``; the field's own to_python and validators run in full_clean. "" empties a
    nullable field (``--daily-quota ""``: back to the kind's default); yes/no for a tick box."""
    model_field = config._meta.get_field(field)
    if raw == "" and model_field.null:
        return None
    if model_field.get_internal_type() == "BooleanField":
        if raw.lower() in YES | NO:
            return raw.lower() in YES
        raise CommandError(f"{field}: say yes or no.")
    return raw
