"""Every stored URL is http(s): one validator (oa_platform.url_policy) on the model fields and in the services,
so each path that writes a URL refuses script links with a clear 4xx or form error and stores nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from broadcasts.models import Notice
from broadcasts.services import Actor, notice_create
from oa_platform.errors import ValidationFailed
from oa_platform.models import ChannelConfig, OfficialAccount
from oa_platform.url_policy import is_web_url, validate_provider_url, validate_web_url
from tests.broadcasts.test_cap import CAP, future, post_cap

# Each of these would run script, load a document of another scheme, or leave the host to the browser.
BAD_URLS = [
    "javascript:alert(document.domain)//",
    "JaVaScRiPt:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "javascript://example.org/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "/relative/path",
    "ftp://files.example.org/a",
    "https:evil.example",
    "http://",
    "https://exa mple.org/",
    "https://example.org/\x00",
]
GOOD_URLS = ["https://example.org/", "http://example.org/a?b=c#d", "HTTPS://EXAMPLE.ORG/x", "https://[2001:db8::1]/"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_validator_refuses_non_web_urls(url):
    with pytest.raises(ValidationError) as exc:
        validate_web_url(url)
    assert exc.value.code == "url_scheme"
    assert not is_web_url(url)


@pytest.mark.parametrize("url", GOOD_URLS)
def test_validator_accepts_http_and_https(url):
    validate_web_url(url)
    assert is_web_url(url)


@pytest.mark.parametrize("url", BAD_URLS)
def test_model_fields_refuse_them(url, tenant_a):
    notice = Notice(account=tenant_a.account, category="general", title_vi="t", body_vi="b", link=url)
    with pytest.raises(ValidationError) as exc:
        notice.full_clean()
    assert "link" in exc.value.message_dict
    tenant_a.account.avatar_url = url
    with pytest.raises(ValidationError) as exc:
        tenant_a.account.full_clean()
    assert "avatar_url" in exc.value.message_dict
    for field in ("api_base", "callback_url"):
        with pytest.raises(ValidationError) as exc:
            ChannelConfig(account=tenant_a.account, kind="generic", **{field: url}).full_clean()
        assert field in exc.value.message_dict
    with pytest.raises(ValidationError):
        validate_provider_url(url)


@pytest.mark.parametrize(
    "web", ["javascript:alert(document.domain)//", "  JaVaScRiPt:alert(1)", "java&#9;script:alert(1)", "//evil.example"]
)
def test_cap_import_refuses_script_link_and_stores_nothing(api_client, tenant_a, web):
    # given: the CAP alert of the issue, with <web> carrying script
    document = CAP.format(expires=future()).replace("<instruction>", f"<web>{web}</web><instruction>")
    # when
    resp = post_cap(api_client, tenant_a, document.encode())
    # then
    assert resp.status_code == 400, resp.json()
    assert "link" in resp.json()["error"]["fields"]
    assert Notice.objects.count() == 0


def test_cap_import_keeps_a_web_link(api_client, tenant_a):
    document = CAP.format(expires=future()).replace("<instruction>", "<web>https://nchmf.gov.vn/bao</web><instruction>")
    resp = post_cap(api_client, tenant_a, document.encode())
    assert resp.status_code == 201, resp.json()
    assert Notice.objects.get().link == "https://nchmf.gov.vn/bao"


@pytest.mark.parametrize("url", BAD_URLS)
def test_api_refuses_script_link_and_stores_nothing(api_client, tenant_a, url):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {tenant_a.token}")
    body = {"category": "storm-flood", "title_vi": "Bão", "body_vi": "Bão số 3", "link": url}
    resp = api_client.post(f"/api/v1/accounts/{tenant_a.account.slug}/notices/", body, format="json")
    assert resp.status_code == 400
    assert "link" in resp.json()["error"]["fields"]
    assert Notice.objects.count() == 0


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "ftp://files.example.org/a"])
def test_service_refuses_script_link(tenant_a, url):
    """Management commands and any other caller of the service get the same refusal."""
    with pytest.raises(ValidationFailed) as exc:
        notice_create(
            account=tenant_a.account,
            actor=Actor(user=tenant_a.broadcaster),
            category="general",
            title_vi="t",
            body_vi="b",
            link=url,
        )
    assert "link" in exc.value.fields
    assert Notice.objects.count() == 0


# (Django's form field itself turns "//host" into "https://host", an absolute web link: not refused there.)
@pytest.mark.parametrize("url", ["javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,x", "VBSCRIPT:x"])
def test_admin_notice_form_refuses_script_link(client, tenant_a, url):
    client.force_login(tenant_a.broadcaster)
    resp = client.post(
        reverse("admin:broadcasts_notice_add"),
        {"account": tenant_a.account.pk, "category": "health", "severity": "minor", "title_vi": "t"}
        | {"body_vi": "b", "mode": "live", "link": url},
    )
    assert resp.status_code == 200
    assert resp.context["adminform"].form.errors["link"]
    assert Notice.objects.count() == 0


@pytest.mark.parametrize("url", ["javascript:alert(1)", "vbscript:x", "data:image/svg+xml,<svg onload=alert(1)>"])
def test_admin_account_form_refuses_script_avatar(client, tenant_a, url):
    account = tenant_a.account
    client.force_login(tenant_a.manager)
    url_change = reverse("admin:oa_platform_officialaccount_change", args=[account.pk])
    form = client.get(url_change).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data |= {"avatar_url": url, "working_days": "0,1,2,3,4"}
    resp = client.post(url_change, data)
    assert resp.status_code == 200
    assert resp.context["adminform"].form.errors["avatar_url"]
    assert OfficialAccount.objects.get(pk=account.pk).avatar_url == ""


@pytest.mark.parametrize("field", ["api_base", "callback_url"])
def test_admin_channel_form_refuses_script_url(client, tenant_a, field):
    client.force_login(tenant_a.manager)
    data = {"account": tenant_a.account.pk, "kind": "generic", "is_enabled": "on", field: "javascript:alert(1)"}
    resp = client.post(reverse("admin:oa_platform_channelconfig_add"), data)
    assert resp.status_code == 200
    assert resp.context["adminform"].form.errors[field]
    assert ChannelConfig.objects.count() == 0


def test_admin_provider_form_refuses_script_url(client, tenant_a):
    client.force_login(tenant_a.manager)
    data = {"account": tenant_a.account.pk, "kind": "sms", "is_enabled": "on", "api_base": "JAVASCRIPT:alert(1)"}
    data |= {"timeout_s": "5", "rate_per_s": "20", "burst": "5", "max_attempts": "4", "backoff_s": "0.5"}
    resp = client.post(reverse("admin:oa_platform_channelconfig_add"), data)
    assert resp.status_code == 200
    assert resp.context["adminform"].form.errors["api_base"]
    assert ChannelConfig.objects.count() == 0


@pytest.mark.parametrize("option", ["--callback-url", "--api-base"])
def test_set_channel_refuses_script_url(tenant_a, option):
    with pytest.raises(CommandError, match="http"):
        call_command("set_channel", tenant_a.account.slug, "generic", "--secret", "s", option, "javascript:alert(1)")
    assert ChannelConfig.objects.count() == 0


@pytest.mark.parametrize(
    ("language", "expected"),
    [("vi", "Chỉ chấp nhận địa chỉ web"), ("en", "Only http:// and https://"), ("zh-hans", "只允许")],
)
def test_refusal_is_translated(language, expected):
    from django.utils import translation

    with translation.override(language):
        with pytest.raises(ValidationError) as exc:
            validate_web_url("javascript:alert(1)")
        assert expected in exc.value.messages[0]


def test_faq_import_stores_no_url(db):
    """The FAQ interchange has no URL field: a link or avatar in a file is not stored anywhere (answers are
    plain text, shown as text on the citizen page, see tests/browser/test_csp.py)."""
    from faq.interchange import faq_import
    from faq.models import FaqEntry

    document = {
        "accounts": [
            {
                "slug": "so-moi",
                "name": "Sở mới",
                "language": "vi",
                "avatar_url": "javascript:alert(1)",
                "faqs": [
                    {
                        "key": "trang-web",
                        "question": "Trang web của sở?",
                        "answer": "javascript:alert(1)",
                        "link": "javascript:alert(1)",
                        "url": "data:text/html,x",
                    }
                ],
            }
        ]
    }
    faq_import(document=document)
    account = OfficialAccount.objects.get(slug="so-moi")
    assert account.avatar_url == ""
    entry = FaqEntry.objects.get(account=account)
    stored = {f.name: getattr(entry, f.name) for f in FaqEntry._meta.concrete_fields}
    assert [k for k, v in stored.items() if isinstance(v, str) and v.startswith(("javascript:", "data:"))] == ["answer"]
