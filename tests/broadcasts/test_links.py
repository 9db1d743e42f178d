"""Defence in depth: pages and the citizen inbox render a link only when it is http(s)."""

from django.urls import reverse

from broadcasts.models import Notice
from broadcasts.selectors import inbox_for
from oa_platform.models import OfficialAccount
from tests.broadcasts.conftest import approved, follower


def test_pages_render_no_link_that_is_not_http(client, tenant_a, run_dispatcher):
    """Defence in depth: a row written around the validators (raw SQL, an old row) still renders no script
    link: the avatar is dropped and the inbox gives the notice without its link."""
    # given: rows that bypass every validator
    OfficialAccount.objects.filter(pk=tenant_a.account.pk).update(avatar_url="javascript:alert(1)")
    citizen = follower(tenant_a.account)
    notice = approved(tenant_a, severity="severe")  # severe: not held by quiet hours, whatever the hour
    Notice.objects.filter(pk=notice.pk).update(link="javascript:alert(document.domain)//")
    run_dispatcher()
    # when
    page = client.get(reverse("oa-page", args=[tenant_a.account.slug])).content.decode()
    home = client.get(reverse("home")).content.decode()
    items = inbox_for(account=tenant_a.account, citizen=citizen)
    # then
    assert "javascript:" not in page and "javascript:" not in home
    assert [item["link"] for item in items] == [""]
