"""FAQ matcher on a small hand-made corpus (pure Python, no Django)."""

import json
import time
from pathlib import Path

import pytest

from faq import matcher as matcher_module
from faq.matcher import Candidate, Entry, Matcher, MatchResult

ENTRIES = [
    Entry(
        "cccd-le-phi",
        "Làm thẻ căn cước hết bao nhiêu tiền?",
        ("Lệ phí cấp đổi căn cước là bao nhiêu?", "Phí làm căn cước gắn chip"),
        tags=("căn cước", "lệ phí"),
    ),
    Entry(
        "cccd-cap-lai",
        "Bị mất thẻ căn cước thì làm lại như thế nào?",
        ("Thủ tục cấp lại căn cước bị mất", "Làm lại thẻ căn cước do thất lạc"),
    ),
    Entry("ho-chieu", "Thủ tục làm hộ chiếu lần đầu như thế nào?", ("Làm passport lần đầu cần gì?",)),
    Entry("tam-tru", "Thủ tục đăng ký tạm trú như thế nào?", ("Sinh viên thuê trọ có phải đăng ký tạm trú?",)),
    Entry("bao-lu", "Sau bão lũ xử lý nước sạch thế nào?", ()),
    Entry("bao-cao", "Báo cáo số điện thoại lừa đảo ở đâu?", ()),
    Entry("thuong-tru", "Thủ tục đăng ký thường trú như thế nào?", ("Nhập hộ khẩu vào nhà mới",)),
]


@pytest.fixture(scope="module")
def matcher():
    return Matcher(ENTRIES, language="vi")


def test_answers_a_clear_question(matcher):
    result = matcher.match("làm căn cước hết bao nhiêu tiền vậy ad")
    assert result.decision == "answer"
    assert result.faq == "cccd-le-phi"
    assert result.suggestions == []
    assert result.candidates[0] == Candidate("cccd-le-phi", ENTRIES[0].question, result.score)


def test_answers_teencode_without_diacritics(matcher):
    result = matcher.match("mat cccd r lam lai ntn")
    assert result.decision == "answer"
    assert result.faq == "cccd-cap-lai"


def test_suggests_when_two_entries_are_close(matcher):
    result = matcher.match("thủ tục đăng ký")  # tạm trú or thường trú? ask, do not guess
    assert result.decision == "suggest"
    keys = [c.key for c in result.suggestions]
    assert {"tam-tru", "thuong-tru"} <= set(keys)
    assert len(keys) <= 3 and len(set(keys)) == len(keys)
    assert result.faq == keys[0]


def test_falls_back_on_unrelated_text(matcher):
    result = matcher.match("giá vàng hôm nay")
    assert result.decision == "fallback"
    assert result.faq is None
    assert result.suggestions == []


def test_accented_match_beats_unaccented_twin(matcher):
    storm = matcher.match("bão lũ")
    report = matcher.match("báo cáo")
    assert storm.candidates[0].key == "bao-lu"
    assert report.candidates[0].key == "bao-cao"
    scores = {c.key: c.score for c in storm.candidates}
    assert scores["bao-lu"] > scores.get("bao-cao", 0)


def test_idf_down_weights_common_words(matcher):
    # "thủ tục ... như thế nào" is in many entries; "hộ chiếu" in one
    result = matcher.match("thủ tục như thế nào hộ chiếu")
    assert result.candidates[0].key == "ho-chieu"
    common_only = matcher.match("thủ tục như thế nào")
    assert common_only.decision != "answer"
    assert common_only.score < result.score


def test_per_account_synonyms():
    entries = [Entry("pccc", "Thẩm duyệt phòng cháy chữa cháy ở đâu?"), Entry("other", "Đăng ký kinh doanh ở đâu?")]
    plain = Matcher(entries, language="vi")
    custom = Matcher(entries, language="vi", synonyms={"pccc": "phòng cháy chữa cháy"})
    assert custom.match("thẩm duyệt pccc").faq == "pccc"
    assert custom.match("thẩm duyệt pccc").score > plain.match("thẩm duyệt pccc").score


def test_chinese_traditional_and_english():
    zh = Matcher([Entry("lost", "身份证丢了怎么补办？"), Entry("photo", "办身份证照片有什么要求？")], language="zh")
    assert zh.match("身份證不見了怎麼補辦").faq == "lost"
    en = Matcher(
        [Entry("dl", "How do I renew my driving licence?"), Entry("id", "How do I renew my ID card?")], language="en"
    )
    assert en.match("renew my driver's license pls").candidates[0].key == "dl"


def test_candidates_are_ranked_and_bounded(matcher):
    result = matcher.match("thủ tục làm căn cước")
    assert 1 <= len(result.candidates) <= 5
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)


def test_thresholds_change_the_decision():
    strict = Matcher(ENTRIES, language="vi", answer_threshold=99.9)
    assert strict.match("làm căn cước hết bao nhiêu tiền").decision == "suggest"


@pytest.mark.parametrize(
    "text", ["", "   ", "😀😀", "x" * 10_000, "\x00\x1b[2J", "'; DROP TABLE faq; --", "<img src=x onerror=1>", None]
)
def test_never_raises(matcher, text):
    result = matcher.match(text)
    assert isinstance(result, MatchResult)
    assert result.decision in ("answer", "suggest", "fallback")


def test_len_and_duplicate_keys():
    m = Matcher([Entry("a", "một"), Entry("b", "hai"), Entry("a", "ba")], language="vi")
    assert len(m) == 2
    assert Matcher([], language="vi").match("gì").decision == "fallback"


_SHARED = Path(__file__).resolve().parents[3] / "shared" / "faq"


@pytest.mark.skipif(not (_SHARED / "queries_dev.jsonl").exists(), reason="dev set not available")
def test_dev_set_regression_guard():
    """Not the targets (see the benchmark): a floor that catches a regression, in well under 5 s."""
    from faq.bench import load_corpus, load_queries, run_quality

    started = time.perf_counter()
    quality = run_quality(
        load_corpus(_SHARED / "faq_corpus.json"), load_queries(_SHARED / "queries_dev.jsonl"), baselines=False
    )
    overall = quality["matcher"]["overall"]
    assert overall["wrong"] <= 0.022
    assert overall["helped"] >= 0.982
    assert overall["correct"] >= 0.89
    assert time.perf_counter() - started < 5
    json.dumps(quality)  # serialisable for the management command


def test_a_story_around_the_question_still_finds_it(matcher):
    # given a long message whose narrative words appear in no entry
    story = (
        "Dạ chào anh chị. Cuối tuần rồi em đi chơi xa với bạn bè, về tới nhà mở ví ra thì không thấy đâu nữa. "
        "Em đã tìm khắp nơi rồi. Giờ em muốn cấp lại thẻ căn cước bị mất thì làm thế nào ạ?"
    )
    # when
    ranked = matcher.rank_detail(story)
    whole = matcher._score_entries(matcher._normalizer(story))
    # then the sentence that asks decides, and scores higher than the whole story would
    assert matcher._entries[ranked[0][0]].key == "cccd-cap-lai"
    assert ranked[0][1] > whole[ranked[0][0]][0]


def test_one_sentence_gives_no_clauses(matcher):
    assert matcher._clauses("Làm lại căn cước bị mất ở đâu?") == []
    assert len(matcher._clauses("Em bị mất ví. Làm lại căn cước ở đâu?")) == 3  # 2 sentences + the pair


def test_a_typo_correction_counts_less_than_the_typed_word():
    m = Matcher([Entry("a", "Thủ tục xuất cảnh"), Entry("b", "Giờ làm việc")], language="vi")
    exact = m.rank("thủ tục xuất cảnh")[0]
    typo = m.rank("thủ tục xuaat cảnh")[0]  # one extra letter: corrected to "xuat"
    assert exact[0] == typo[0] == 0
    assert typo[1] < exact[1]


def test_a_corrected_word_weighs_the_typo_share_of_the_typed_word():
    # given an index that knows "xuat"
    m = Matcher([Entry("a", "Thủ tục xuất cảnh"), Entry("b", "Giờ làm việc")], language="vi")
    # when the word is typed right, and with one extra letter
    exact = m._query(m._normalizer("xuat canh"))[0]
    typo = m._query(m._normalizer("xuaat canh"))[0]
    # then the correction keeps _TYPO_WEIGHT of the word's weight (squared weights), the other word is untouched
    assert typo["xuat"] == pytest.approx(exact["xuat"] * matcher_module._TYPO_WEIGHT**2)
    assert typo["canh"] == exact["canh"]
    assert 0.5 < matcher_module._TYPO_WEIGHT < 1.0


def test_a_typo_between_two_equally_frequent_words_is_corrected_the_same_way_every_time():
    # "minh" is one edit from "sinh" and from "mien", each in one entry: the choice must not follow the order of
    # the entries or of a set (which changes with the process's string hash seed)
    a, b = Entry("a", "Giấy khai sinh"), Entry("b", "Tiêm miễn phí")
    picks = {Matcher(entries, language="vi")._correct("minh") for entries in ([a, b], [b, a])}
    assert picks == {"mien"}


def test_detail_reports_coverage_and_unknown_words(matcher):
    covered = matcher.rank_detail("lệ phí làm căn cước")[0]
    assert matcher._entries[covered[0]].key == "cccd-le-phi"
    assert covered[3] == 1.0  # the most distinctive words are in the entry
    assert covered[4] == 0.0  # every word is known to the account
    other = matcher.rank_detail("lệ phí xin visa kết hôn")[0]
    assert 0.0 < other[4] < 1.0  # "visa", "kết hôn" are in no entry
    assert other[2] < covered[2]


def test_very_long_message_with_many_sentences_is_bounded(matcher):
    text = "Em hỏi chút. " * 800 + "Làm lại căn cước bị mất thế nào?"
    started = time.perf_counter()
    result = matcher.match(text)
    assert result.decision in {"answer", "suggest", "fallback"}
    assert time.perf_counter() - started < 0.5


def test_entries_sharing_a_phrasing_or_tag_are_both_indexed():
    # given two entries with the same variant and tag (normalised once per build)
    m = Matcher(
        [
            Entry("a", "Đổi giấy phép lái xe hết hạn", ("Đổi bằng lái",), tags=("giấy phép lái xe",)),
            Entry("b", "Đổi giấy phép lái xe nước ngoài", ("Đổi bằng lái",), tags=("giấy phép lái xe",)),
            Entry("c", "Giờ làm việc của sở"),
        ],
        language="vi",
    )
    # when / then: both are candidates and neither is answered outright
    result = m.match("đổi bằng lái")
    assert {c.key for c in result.candidates[:2]} == {"a", "b"}
    assert result.decision == "suggest"
    assert m.match("đổi bằng lái nước ngoài").candidates[0].key == "b"


def test_accented_message_words_score_without_postings_of_their_own():
    m = Matcher([Entry("storm", "Bão lũ sơ tán ở đâu"), Entry("report", "Báo cáo lừa đảo")], language="vi")
    assert m.match("bão lũ sơ tán").faq == "storm"
    assert m.match("báo cáo lừa đảo").faq == "report"


def test_similarity_weighs_the_entry_side_more_than_the_message_side():
    from faq.matcher import _similarity

    # a long message holding the whole phrasing beats a short one holding half of it
    assert _similarity(1.0, 0.3, 0.3) > _similarity(0.5, 0.6, 0.6)
    # symmetric inputs give the plain geometric mean; nothing in common gives 0
    assert _similarity(0.5, 0.5, 0.5) == pytest.approx(0.5)
    assert _similarity(0.0, 0.0, 0.0) == 0.0


def test_message_side_counts_words_spread_over_the_variants():
    # given an entry whose words are spread over two variants, and a rival sharing only the generic words
    m = Matcher(
        [
            Entry("lost", "Làm lại thẻ căn cước bị mất", ("Căn cước thất lạc ở bến xe thì báo ở đâu",)),
            Entry("first", "Làm thẻ căn cước lần đầu ở đâu"),
            Entry("hours", "Giờ làm việc của công an phường"),
        ],
        language="vi",
    )
    # when a citizen mixes words of both variants
    result = m.match("thẻ căn cước thất lạc làm lại ở đâu")
    # then the entry holding all of them wins clearly
    assert result.faq == "lost"
    assert result.decision == "answer"


def test_a_word_only_the_answer_holds_explains_the_message():
    # given two driving-licence entries; only one answer names epilepsy, no phrasing does
    entries = [
        Entry(
            "medical",
            "When do I need a medical test for my driving licence?",
            ("Medical condition and driving licence",),
            answer="Anyone with a condition such as epilepsy must tell us before driving.",
        ),
        Entry(
            "renew",
            "How do I renew my driving licence?",
            ("Renew driving licence online",),
            answer="Renew online or at any centre; bring your old licence.",
        ),
    ]
    message = "do i have to tell you about my epilepsy if i drive"
    with_answers = Matcher(entries, language="en")
    without_answers = Matcher([Entry(e.key, e.question, e.variants) for e in entries], language="en")
    # when the message's rare word is unknown to every phrasing
    ranked = with_answers.rank(message)
    # then the entry whose answer explains it ranks first and scores higher than without its answer
    assert with_answers._entries[ranked[0][0]].key == "medical"
    before = dict((without_answers._entries[e].key, s) for e, s in without_answers.rank(message))
    assert ranked[0][1] > before["medical"]


def test_answer_words_the_phrasings_know_add_nothing():
    # given an answer that repeats a word another entry's phrasing holds
    entries = [
        Entry("fee", "How much is a passport?", answer="A passport renewal costs 50."),
        Entry("renew", "How do I renew a passport?", answer="Apply online."),
    ]
    plain = Matcher([Entry(e.key, e.question) for e in entries], language="en")
    with_answers = Matcher(entries, language="en")
    # when the message uses that known word, then the answer does not change any score
    assert with_answers.rank("renew my passport") == plain.rank("renew my passport")


# ----------------------------------------------------------------------------------- question types
SIBLINGS = [
    Entry(
        "the-le-phi", "Làm thẻ thư viện hết bao nhiêu tiền?", ("Lệ phí cấp thẻ thư viện", "Phí làm lại thẻ thư viện")
    ),
    Entry("the-thoi-gian", "Làm thẻ thư viện bao lâu thì có?", ("Mấy ngày nhận thẻ thư viện?", "Thời gian cấp thẻ")),
    Entry("the-noi-lam", "Làm thẻ thư viện ở đâu?", ("Địa chỉ cấp thẻ thư viện",)),
]


def test_question_types_of_cues_in_three_languages():
    from faq.normalize import Normalizer
    from faq.question_types import QuestionTyper

    vi = QuestionTyper(Normalizer("vi"))
    en = QuestionTyper(Normalizer("en"))
    zh = QuestionTyper(Normalizer("zh"))

    def types(typer, text):
        return typer.types(typer_norm[typer](text).folded_text)

    typer_norm = {vi: Normalizer("vi"), en: Normalizer("en"), zh: Normalizer("zh")}
    assert "fee" in types(vi, "làm thẻ hết bn tiền")  # teen-code meets the cue
    assert "duration" in types(vi, "mat bao lau thi co the")
    assert "lost" not in types(vi, "mất bao lâu thì có thẻ")  # the longer cue wins
    assert "lost" in types(vi, "em bị mất thẻ rồi")
    assert "place" in types(en, "where do I collect my card")
    assert "fee" in types(en, "how much is the permit")
    assert "documents" in types(zh, "办居住证要带什么")
    assert "online" in types(zh, "可以在网上办吗")
    assert types(vi, "") == frozenset()


def test_entry_types_are_the_question_and_the_majority_of_phrasings():
    from faq.question_types import QuestionTyper

    fee, place, duration = frozenset({"fee"}), frozenset({"place"}), frozenset({"duration"})
    assert QuestionTyper.entry_types_from([fee, place, duration]) == fee
    assert QuestionTyper.entry_types_from([frozenset(), place, place, duration]) == place
    assert QuestionTyper.entry_types_from([]) == frozenset()


def test_a_fee_question_is_not_answered_by_a_duration_sibling():
    m = Matcher(SIBLINGS, language="vi")
    ranked = m.rank_detail("thẻ thư viện tốn bao nhiêu")
    assert m._entries[ranked[0][0]].key == "the-le-phi"
    scores = {m._entries[r[0]].key: r[1] for r in ranked}
    # the conflicting sibling lost points to the conflict, the agreeing one did not
    assert scores["the-le-phi"] > scores.get("the-thoi-gian", 0.0) + 10


def test_untyped_message_is_left_alone():
    m = Matcher(SIBLINGS, language="vi")
    plain = {m._entries[r[0]].key: r[1] for r in m.rank_detail("thẻ thư viện")}
    assert len(set(round(v, 6) for v in plain.values())) >= 1
    assert all(r[-1] == 0.0 for r in m.rank_detail("thẻ thư viện"))


# ----------------------------------------------------------------------------------- question focus
def test_question_like_clauses_in_three_languages():
    from faq.matcher import is_question_like, split_clauses

    assert is_question_like("giờ làm lại thẻ thì thủ tục thế nào ạ")
    assert is_question_like("Where do I renew it")
    assert is_question_like("Can I walk in.")
    assert is_question_like("需要我自己去派出所吗")
    assert not is_question_like("Hôm qua em đi chơi xa với bạn bè.")
    assert not is_question_like("My card expires next month.")
    assert split_clauses("我是学生，已经签了合同。请问流程怎样？") == ["我是学生，", "已经签了合同。", "请问流程怎样？"]


def test_the_last_question_decides_and_the_story_is_weak_context():
    # given an entry about the story's words and one about what is asked
    m = Matcher(
        [
            Entry("trip", "Đi du lịch Đà Lạt cần chuẩn bị gì", ("Tour du lịch Đà Lạt giá bao nhiêu",)),
            Entry("lost", "Làm lại thẻ căn cước bị mất thế nào"),
            Entry("hours", "Giờ làm việc của công an phường"),
        ],
        language="vi",
    )
    story = "Em đi du lịch Đà Lạt với bạn bè cả tuần. Về nhà mới thấy thẻ căn cước đã bị mất. Giờ làm lại thế nào ạ?"
    # when
    ranked = m.rank_detail(story)
    # then the question and the clause before it win over the narrative's words
    assert m._entries[ranked[0][0]].key == "lost"


def test_a_question_clause_without_content_words_falls_back_to_the_whole_message():
    m = Matcher([Entry("lost", "Làm lại thẻ căn cước bị mất thế nào"), Entry("x", "Giờ làm việc")], language="vi")
    # "vậy có sao không" and its neighbour know no content word: no focus window
    assert m._focus("Em lo quá. Vậy có sao không?") == []
    assert m._focus("Em bị mất thẻ căn cước hôm qua rồi") is None  # one clause, nothing to focus


def test_a_focus_window_with_the_same_words_as_the_message_is_not_scored_twice():
    m = Matcher([Entry("lost", "Làm lại thẻ căn cước bị mất thế nào"), Entry("x", "Giờ làm việc")], language="vi")
    # "ạ" after the question mark is politeness: the question clause is the whole message
    assert m._focus("làm lại thẻ căn cước bị mất thế nào? ạ") == []


# ----------------------------------------------------------------------------------- self-supervised calibration
def test_exclude_a_phrasing_scores_as_if_it_were_not_indexed(matcher):
    # given an entry whose variant alone holds "gắn chip" (index 0, phrasing 2: "Phí làm căn cước gắn chip")
    text = "phí làm căn cước gắn chip"
    full = {r[0]: r for r in matcher.rank_detail(text)}
    # when that phrasing is left out
    held_out = {r[0]: r for r in matcher.rank_detail(text, exclude=(0, 2))}
    # then the entry still ranks (its other phrasings) but scores lower, and "chip" is now unknown to the account
    assert 0 in held_out
    assert held_out[0][1] < full[0][1]
    assert held_out[0][4] > full[0][4]  # unknown share of the message's word weight
    # and the full index is untouched afterwards
    assert (
        matcher.rank_detail(text)[0] == matcher.rank_detail(text)[0] and matcher.rank_detail(text)[0][1] == full[0][1]
    )


def test_exclude_a_whole_entry_removes_it_from_the_ranking(matcher):
    ranked = matcher.rank_detail("sau bão lũ xử lý nước sạch thế nào", exclude=(4, None))
    assert all(r[0] != 4 for r in ranked)
    assert matcher.rank_detail("sau bão lũ xử lý nước sạch thế nào")[0][0] == 4


def _row(score, runner_up, coverage=0.5):
    return [(0, score, coverage, 1.0, 0.0, 0.0, coverage, 0.0), (1, runner_up, 0.3, 0.5, 0.0, 0.5, 0.3, 0.0)]


def test_calibration_fit_keeps_signs_and_the_wrong_answer_cap():
    import random

    from faq.calibration import FEATURES, Calibration, decision_features, fit

    rng = random.Random(3)
    lines = []
    for _ in range(400):  # right top entries score high and lead; wrong ones and out-of-scope lines do not
        s = rng.uniform(30, 90)
        lines.append({"kind": "pos", "top_right": True, "x": decision_features(_row(s, s - rng.uniform(5, 30)))})
        s = rng.uniform(10, 50)
        lines.append({"kind": "pos", "top_right": False, "x": decision_features(_row(s, s - rng.uniform(0, 8)))})
        s = rng.uniform(5, 45)
        lines.append({"kind": "neg", "top_right": False, "x": decision_features(_row(s, s - rng.uniform(0, 15), 0.2))})
    model = fit(lines, max_wrong=0.02)
    cal = Calibration.from_dict(model)
    for (name, sign), c in zip(FEATURES, cal.coef, strict=True):
        assert c * sign >= 0, name
    assert model["self_supervised"]["wrong"] <= 0.02
    assert model["self_supervised"]["correct"] > 0.3  # it does answer
    # monotone: a higher top score (same runner-up) never turns an answer into a non-answer
    decisions = [cal.answer(_row(s, 20.0)) for s in range(20, 101, 5)]
    assert decisions == sorted(decisions) and decisions[-1] and not decisions[0]


def test_calibrated_decide_is_monotone_in_score_and_opt_in(tmp_path):
    from faq.calibration import FEATURES, Calibration, load_calibration

    coef = {name: (1.0 if sign > 0 else -1.0) for name, sign in FEATURES}
    data = {"features": [n for n, _ in FEATURES], "coef": coef, "intercept": -3.5, "cutoff": 0.0}
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(data))
    cal = load_calibration(str(path))
    assert cal == Calibration.from_dict(data)
    assert load_calibration(str(tmp_path / "absent.json")) is None  # the matcher then keeps its rule
    bad = dict(data, coef=dict(coef, score=-1.0))
    with pytest.raises(ValueError):
        Calibration.from_dict(bad)

    m = Matcher(ENTRIES, language="vi")
    assert m.calibration is None  # the fixed rule is the default
    assert Matcher(ENTRIES, language="vi", calibrated=True, answer_threshold=40).calibration is None  # overrides
    object.__setattr__(m, "calibration", cal)
    decisions = [m.decide(_row(s, 10.0)) for s in range(5, 101, 5)]
    order = {"fallback": 0, "suggest": 1, "answer": 2}
    assert [order[d] for d in decisions] == sorted(order[d] for d in decisions)
    assert decisions[0] == "fallback" and decisions[-1] == "answer"
    assert m.decide([]) == "fallback"


def test_perturbations_type_like_citizens():
    import random

    from faq.calibration import perturbations

    styles = dict(perturbations("Làm thẻ căn cước hết bao nhiêu tiền?", "vi", random.Random(1)))
    assert styles["no_diacritics"] == "lam the can cuoc het bao nhieu tien"
    assert "bn" in styles["teencode"]
    assert "căn cước" in styles["greeting"] and styles["greeting"] != styles["plain"]
    assert styles["verbose"].endswith("Làm thẻ căn cước hết bao nhiêu tiền?")
    assert len(styles["dropped"].split()) == len(styles["plain"].split()) - 1
