"""A new citizen in headless Chromium on the English and on the Chinese sample account: the page and every
message the bot writes (greeting, answer, suggestions, fallback, help, thanks, the hand-off button and its
confirmation outside staff hours) are in the account's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from faq import index
from faq.services import faq_match
from oa_platform.conversations.engine import handoff_command
from oa_platform.models import Conversation, OfficialAccount
from tests.browser.test_citizen_page import WAIT_MS, bot_bubbles, open_page
from tests.oa_platform.conversations.test_chat_language import SAY, SLUG, VAGUE, assert_in_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CORPUS = Path(settings.BASE_DIR) / "oa_platform" / "fixtures" / "faq_corpus.json"
QUESTION = {"en": "How much does an ID card cost?", "zh-hans": "办理身份证收费多少钱？"}
PAGE_TEXT = """() => {
    const body = document.body.cloneNode(true);
    body.querySelectorAll("option, script, style, noscript").forEach((node) => node.remove());  // area names are names
    return body.textContent;
}"""


@pytest.mark.parametrize("language, locale", [("en", "en-US"), ("zh-hans", "zh-CN")])
def test_the_page_and_every_bot_message_speak_the_accounts_language(asgi_server, browser, language, locale):
    index.index_forget()
    call_command("import_faqs", str(CORPUS), verbosity=0)
    account = OfficialAccount.objects.get(slug=SLUG[language])
    # no staff working days: the hand-off tells when staff answer, whatever the hour the test runs at
    account.working_days = ""
    account.save(update_fields=["working_days"])
    vague = next(t for t in VAGUE[language] if faq_match(account=account, text=t).decision == "suggest")

    context, page = open_page(browser, f"{asgi_server}/oa/{account.slug}/", locale=locale)
    page.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)
    assert page.locator("html").get_attribute("lang") == language
    assert_in_language(page.evaluate(PAGE_TEXT).replace(account.name, ""), language)

    def ask(text: str, count: int):
        page.fill("#chat-input", text)
        page.press("#chat-input", "Enter")
        expect(bot_bubbles(page)).to_have_count(count, timeout=WAIT_MS)

    ask(SAY["greeting"][language], 1)
    ask(QUESTION[language], 2)
    ask(vague, 3)
    expect(page.locator("#quick button").first).to_be_visible(timeout=WAIT_MS)
    ask(SAY["help"][language], 4)
    ask(SAY["thanks"][language], 5)
    ask(SAY["fallback"][language], 6)
    # the fallback offers a person; the button sends the hand-off phrase of the page's language
    button = page.locator("#ask-human")
    assert_in_language(button.inner_text(), language)
    button.click()
    expect(bot_bubbles(page)).to_have_count(7, timeout=WAIT_MS)
    expect(page.locator("#messages li.msg.in").last).to_have_text(handoff_command(language))

    texts = [page.locator("#messages li.welcome").inner_text(), *bot_bubbles(page).all_inner_texts()]
    for text in texts:
        assert_in_language(text.replace(account.name, ""), language)
    assert Conversation.objects.get(account=account).status == Conversation.STATUS_WAITING
    page.close()
    context.close()


def test_a_referral_links_to_the_other_agencys_page(asgi_server, browser):
    from tests.faq.test_chat_referral import FLU_PRICE

    index.index_forget()
    call_command("import_faqs", str(CORPUS), verbosity=0)
    context, page = open_page(browser, f"{asgi_server}/oa/sogtvt-hn/")
    page.wait_for_function("() => window.oaPage && window.oaPage.isLive()", timeout=WAIT_MS)
    page.fill("#chat-input", FLU_PRICE)
    page.press("#chat-input", "Enter")
    link = bot_bubbles(page).last.locator('a[href="/oa/soyte-dn/"]')
    expect(link).to_have_text("/oa/soyte-dn/", timeout=WAIT_MS)
    link.click()
    expect(page.locator("h1")).to_have_text(OfficialAccount.objects.get(slug="soyte-dn").name, timeout=WAIT_MS)
    page.close()
    context.close()
