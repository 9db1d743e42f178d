"""An FAQ editor of agency A in headless Chromium against the real admin (uvicorn): edit an entry and add a
variant inline, try a question, review the unanswered questions (add as a variant, create an FAQ, ignore),
import a JSON file and download the JSON and CSV exports. Agency B's content never shows on any page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from faq import index
from faq.models import FaqEntry, UnansweredQuestion
from faq.services import faq_entry_create
from oa_platform.conversations.engine import chat_receive
from oa_platform.models import Membership
from tests.factories import make_account, make_citizen, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAPTOP = {"width": 1280, "height": 800}
WAIT_MS = 10_000  # bounded waits for the pages
PASSWORD = "pw-Staff-123"

FAQ_A = [
    (
        "cccd-cap-lan-dau",
        "Thủ tục làm căn cước công dân lần đầu như thế nào?",
        "Mang giấy khai sinh đến công an phường.",
        ["làm cccd lần đầu cần gì"],
    ),
    (
        "gplx-mat",
        "Mất giấy phép lái xe thì cấp lại thế nào?",
        "Nộp đơn đề nghị cấp lại tại Sở GTVT.",
        ["mất bằng lái xe làm lại ở đâu"],
    ),
    (
        "tiem-chung-tre-em",
        "Tiêm chủng cho trẻ em ở đâu?",
        "Trạm y tế phường tiêm chủng mở rộng vào ngày 15 hằng tháng.",
        ["cho bé đi tiêm vắc xin ở đâu"],
    ),
]
# Agency B's words: none of them may appear on a page agency A's editor sees. B's name is public (the home page
# lists it, and a question of A's that B's FAQ answers is referred to B by name), its FAQ and questions are not.
B_MARKERS = ["bi-mat-cua-b", "Câu hỏi riêng của cơ quan B", "Trả lời riêng của cơ quan B", "chim yến"]
# Citizens' questions nobody wrote an FAQ for (the matcher falls back and logs them).
UNKNOWN_OFTEN = "Nuôi cá koi trong hồ nhà có phải xin phép không?"
UNKNOWN_ONCE = "Giờ mở cửa thư viện tỉnh vào chủ nhật?"
UNKNOWN_NOISE = "Quán phở nào ngon nhất quận một?"
B_UNANSWERED = "Nuôi chim yến trong nhà phố cần giấy phép gì?"


@pytest.fixture(autouse=True)
def _fresh_index_cache():
    index.index_forget()
    yield
    index.index_forget()


def setup_agencies():
    account_a = make_account("so-a", name="Cơ quan A")
    account_b = make_account("so-b", name="Cơ quan Bê")
    for key, question, answer, variants in FAQ_A:
        faq_entry_create(account=account_a, key=key, question=question, answer=answer, variants=variants)
    faq_entry_create(
        account=account_b,
        key="bi-mat-cua-b",
        question="Câu hỏi riêng của cơ quan B về cá koi và thư viện?",
        answer="Trả lời riêng của cơ quan B.",
        variants=["cau hoi b"],
    )
    editor = make_staff(account_a, Membership.ROLE_EDITOR, "bientap-a")
    make_staff(account_b, Membership.ROLE_EDITOR, "bientap-b")
    return account_a, account_b, editor


def ask(account, text: str, times: int = 1):
    citizen = make_citizen()
    for _ in range(times):
        chat_receive(account=account, citizen=citizen, text=text)


def login(browser, base: str, username: str):
    context = browser.new_context(viewport=LAPTOP, device_scale_factor=1, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{base}/admin/login/?next=/admin/faq/faqentry/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#result_list")).to_be_visible(timeout=WAIT_MS)
    return context, page


class Pages:
    """Every page the editor saw, so the test can check at the end that B's content appeared on none."""

    def __init__(self, page):
        self.page = page
        self.seen: list[tuple[str, str]] = []

    def record(self, shot: str | None = None):
        self.page.wait_for_load_state("load")
        # every admin page, the custom ones too, has the admin's breadcrumb bar (Django 6: an <ol>, 5.2: a <div>)
        expect(self.page.locator("nav .breadcrumbs")).to_be_visible()
        self.seen.append((self.page.url, self.page.content()))
        if shot:
            ARTIFACTS.mkdir(exist_ok=True)
            self.page.screenshot(path=str(ARTIFACTS / f"admin-faq-{shot}.png"), full_page=True)

    def assert_no_leak(self):
        for url, html in self.seen:
            for marker in B_MARKERS:
                assert marker not in html, f"agency B's {marker!r} shown on {url}"


def run_action(page, pks, action: str):
    for pk in pks:
        page.check(f'input.action-select[value="{pk}"]')
    page.select_option("select[name=action]", action)
    page.click("#changelist-form button[name=index]")


def test_editor_edits_tries_and_sees_only_own_agency(asgi_server, browser):
    # given two agencies with FAQs, and citizens of A who asked things nobody answers
    account_a, _account_b, _editor = setup_agencies()
    context, page = login(browser, asgi_server, "bientap-a")
    pages = Pages(page)
    pages.record("list")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(len(FAQ_A), timeout=WAIT_MS)

    # when the editor changes an answer and adds a variant inline
    page.click("#result_list a:text-is('gplx-mat')")
    expect(page.locator("#id_answer")).to_be_visible(timeout=WAIT_MS)
    pages.record("change")
    page.fill("#id_answer", "Nộp đơn đề nghị cấp lại tại Sở GTVT hoặc trên Cổng dịch vụ công.")
    extra = page.locator("#variants-group input[name$='-text']:not([name*='__prefix__'])").last
    expect(extra).to_have_value("")
    extra.fill("làm lại bằng lái bị mất")
    page.click("input[name=_save]")

    # then a success message, and the entry carries both changes
    expect(page.locator("ul.messagelist li.success")).to_be_visible(timeout=WAIT_MS)
    pages.record()
    entry = FaqEntry.objects.get(account=account_a, key="gplx-mat")
    assert "Cổng dịch vụ công" in entry.answer
    assert sorted(entry.variants.values_list("text", flat=True)) == [
        "làm lại bằng lái bị mất",
        "mất bằng lái xe làm lại ở đâu",
    ]

    # when the editor tries the new variant on the tools page
    page.click("a[href$='/faq/faqentry/tools/']")
    expect(page.locator("a[href$='/so-a/try/']")).to_be_visible(timeout=WAIT_MS)
    pages.record("tools")
    page.click("a[href$='/so-a/try/']")
    page.fill("#try-form textarea[name=text]", "làm lại bằng lái bị mất")
    page.click("#try-form input[type=submit]")

    # then the decision and the top candidates with their scores
    result = page.locator("#try-result")
    expect(result).to_be_visible(timeout=WAIT_MS)
    pages.record("try")
    expect(result.locator("code.decision")).to_have_text("answer")
    first = result.locator("tbody tr").first
    expect(first.locator("td").nth(1)).to_have_text("gplx-mat")
    score = float(first.locator("td").nth(3).inner_text().replace(",", "."))
    assert 0 < score <= 100
    expect(result.locator(".answer")).to_contain_text("Cổng dịch vụ công")

    context.close()
    pages.assert_no_leak()


def test_editor_reviews_unanswered_questions(asgi_server, browser):
    # given citizens of A who asked three things nobody answers, one of them three times; B has its own
    account_a, account_b, _editor = setup_agencies()
    ask(account_a, UNKNOWN_ONCE)
    ask(account_a, UNKNOWN_OFTEN, times=3)
    ask(account_a, UNKNOWN_NOISE)
    ask(account_b, B_UNANSWERED)
    often = UnansweredQuestion.objects.get(account=account_a, sample_text=UNKNOWN_OFTEN)
    once = UnansweredQuestion.objects.get(account=account_a, sample_text=UNKNOWN_ONCE)
    noise = UnansweredQuestion.objects.get(account=account_a, sample_text=UNKNOWN_NOISE)
    assert often.count == 3 and once.count == 1

    context, page = login(browser, asgi_server, "bientap-a")
    pages = Pages(page)
    page.goto(f"{asgi_server}/admin/faq/unansweredquestion/")
    pages.record("unanswered")

    # the most frequent first; only A's questions
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3, timeout=WAIT_MS)
    expect(rows.first).to_contain_text(UNKNOWN_OFTEN)
    expect(rows.first).to_contain_text("3")

    # "add as a variant of FAQ X": pick the entry on the intermediate page
    run_action(page, [often.pk], "add_as_variant")
    expect(page.locator("select[name=entry]")).to_be_visible(timeout=WAIT_MS)
    pages.record("add-variant")
    options = page.locator("select[name=entry] option").all_inner_texts()
    assert not any("bi-mat-cua-b" in o or "cơ quan B" in o for o in options)
    entry = FaqEntry.objects.get(account=account_a, key="tiem-chung-tre-em")
    page.select_option("select[name=entry]", str(entry.pk))
    page.click("form input[type=submit]")
    expect(page.locator("ul.messagelist li")).to_contain_text("tiem-chung-tre-em", timeout=WAIT_MS)
    pages.record()
    assert UNKNOWN_OFTEN in entry.variants.values_list("text", flat=True)
    often.refresh_from_db()
    assert often.status == UnansweredQuestion.STATUS_RESOLVED and often.resolved_entry == entry
    expect(page.locator("#result_list tbody tr")).to_have_count(2, timeout=WAIT_MS)  # open ones only

    # "create an FAQ from this": the form comes pre-filled with the citizen's words
    run_action(page, [once.pk], "create_faq")
    expect(page.locator("input[name=question]")).to_have_value(UNKNOWN_ONCE, timeout=WAIT_MS)
    pages.record("create-faq")
    expect(page.locator("#content")).to_contain_text("ho-chieu-le-phi")  # the key is explained
    field = page.locator("input[name=question]").bounding_box()
    assert field is not None and field["width"] > 400  # the citizen's question is readable, not cut at 20 chars
    page.fill("input[name=key]", "thu-vien-gio-mo-cua")
    page.fill("input[name=question]", "Thư viện tỉnh mở cửa giờ nào?")
    page.fill("textarea[name=answer]", "Thư viện tỉnh mở cửa 8:00–17:00 mọi ngày, kể cả chủ nhật.")
    page.click("form input[type=submit]")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("thu-vien-gio-mo-cua", timeout=WAIT_MS)
    pages.record()
    created = FaqEntry.objects.get(account=account_a, key="thu-vien-gio-mo-cua")
    assert list(created.variants.values_list("text", flat=True)) == [UNKNOWN_ONCE]

    # "ignore"
    page.goto(f"{asgi_server}/admin/faq/unansweredquestion/")
    run_action(page, [noise.pk], "ignore")
    expect(page.locator("ul.messagelist li")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#result_list")).to_have_count(0, timeout=WAIT_MS)  # the queue is empty
    pages.record()
    noise.refresh_from_db()
    assert noise.status == UnansweredQuestion.STATUS_IGNORED

    # B's question is still open, untouched, and never shown
    assert UnansweredQuestion.objects.get(account=account_b).status == UnansweredQuestion.STATUS_OPEN
    page.goto(f"{asgi_server}/admin/faq/unansweredquestion/?status=all")
    expect(page.locator("#result_list tbody tr")).to_have_count(3, timeout=WAIT_MS)
    pages.record()

    context.close()
    pages.assert_no_leak()


def test_editor_imports_and_exports(asgi_server, browser, tmp_path):
    # given
    account_a, _account_b, _editor = setup_agencies()
    document = {
        "accounts": [
            {
                "slug": "so-a",
                "name": "Cơ quan A",
                "language": "vi",
                "faqs": [
                    {
                        "key": "ho-chieu-le-phi",
                        "question": "Lệ phí làm hộ chiếu là bao nhiêu?",
                        "variants": ["làm hộ chiếu hết bao nhiêu tiền"],
                        "answer": "Lệ phí cấp hộ chiếu phổ thông là 200.000 đồng.",
                        "tags": ["hộ chiếu"],
                    }
                ],
            }
        ]
    }
    context, page = login(browser, asgi_server, "bientap-a")
    pages = Pages(page)

    # when the editor uploads the interchange JSON
    page.goto(f"{asgi_server}/admin/faq/faqentry/tools/")
    page.click("a[href$='/so-a/import/']")
    expect(page.locator("input[type=file]")).to_be_visible(timeout=WAIT_MS)
    pages.record("import")
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "faq-moi.json",
                "mimeType": "application/json",
                "buffer": json.dumps(document, ensure_ascii=False).encode(),
            }
        ],
    )
    page.click("form input[type=submit]")

    # then the report, and the new entry in the list
    expect(page.locator("ul.messagelist li.success")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#result_list")).to_contain_text("ho-chieu-le-phi", timeout=WAIT_MS)
    pages.record("imported")
    imported = FaqEntry.objects.get(account=account_a, key="ho-chieu-le-phi")
    assert list(imported.variants.values_list("text", flat=True)) == ["làm hộ chiếu hết bao nhiêu tiền"]

    # a file for another agency is refused whole, with an error the editor can read
    other = {"accounts": [{**document["accounts"][0], "slug": "so-b", "name": "Cơ quan B"}]}
    page.goto(f"{asgi_server}/admin/faq/faqentry/so-a/import/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "b.json", "mimeType": "application/json", "buffer": json.dumps(other).encode()}],
    )
    page.click("form input[type=submit]")
    expect(page.locator("ul.messagelist li.error")).to_be_visible(timeout=WAIT_MS)
    assert FaqEntry.objects.filter(account__slug="so-b").count() == 1

    # the downloads hold A's entries (the imported one included) and nothing of B
    page.goto(f"{asgi_server}/admin/faq/faqentry/tools/")
    pages.record()
    with page.expect_download(timeout=WAIT_MS) as download_info:
        page.click("a[href$='/so-a/export.json']")
    exported = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    [account_doc] = exported["accounts"]
    assert account_doc["slug"] == "so-a"
    keys = {f["key"] for f in account_doc["faqs"]}
    assert keys == {key for key, *_ in FAQ_A} | {"ho-chieu-le-phi"}

    with page.expect_download(timeout=WAIT_MS) as download_info:
        page.click("a[href$='/so-a/export.csv']")
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["key"] for row in rows} == keys
    for marker in B_MARKERS:
        assert marker not in text and marker not in json.dumps(exported, ensure_ascii=False)

    # the other agency's tools are not even confirmed to exist
    response = page.goto(f"{asgi_server}/admin/faq/faqentry/so-b/export.json")
    assert response.status == 404

    context.close()
    pages.assert_no_leak()
