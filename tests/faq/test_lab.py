"""Fitting the matcher's decision on messages generated from a corpus (faq.lab.fit), pure Python."""

import json
import random

import pytest

from faq.calibration import Calibration
from faq.decision import FEATURE_NAMES
from faq.lab import fit

CORPUS = {
    "accounts": [
        {
            "slug": "police",
            "language": "vi",
            "faqs": [
                {
                    "key": "id-fee",
                    "question": "Làm thẻ căn cước hết bao nhiêu tiền?",
                    "variants": ["Lệ phí cấp căn cước là bao nhiêu?", "Phí làm căn cước"],
                    "answer": "Lệ phí cấp đổi thẻ căn cước là 30.000 đồng.",
                },
                {
                    "key": "id-lost",
                    "question": "Bị mất thẻ căn cước thì làm lại thế nào?",
                    "variants": ["Thủ tục cấp lại căn cước bị mất", "Làm lại căn cước do thất lạc"],
                    "answer": "Đến công an phường nộp tờ khai cấp lại.",
                },
                {
                    "key": "passport",
                    "question": "Thủ tục làm hộ chiếu lần đầu?",
                    "variants": ["Làm passport lần đầu cần gì?", "Xin cấp hộ chiếu phổ thông"],
                    "answer": "Nộp tờ khai tại phòng quản lý xuất nhập cảnh.",
                },
            ],
        },
        {
            "slug": "health",
            "language": "vi",
            "faqs": [
                {
                    "key": "flu",
                    "question": "Tiêm vắc xin cúm ở đâu?",
                    "variants": ["Chỗ nào tiêm phòng cúm?", "Tiêm cúm cho trẻ em ở đâu?"],
                    "answer": "Tại trung tâm y tế quận.",
                },
                {
                    "key": "insurance",
                    "question": "Thẻ bảo hiểm y tế hết hạn thì làm sao?",
                    "variants": ["Gia hạn bảo hiểm y tế", "BHYT hết hạn"],
                    "answer": "Gia hạn tại bưu điện hoặc đại lý thu.",
                },
            ],
        },
    ]
}


@pytest.fixture(scope="module")
def lines():
    return fit.generate(CORPUS, seed=3)


def test_generated_lines_are_labelled_from_the_corpus_alone(lines):
    kinds = {(ln["kind"], fit._group(ln)) for ln in lines}
    assert {("in", "paraphrase"), ("in", "listed"), ("out", "missing"), ("out", "other"), ("out", "topic")} <= kinds
    assert all(set(ln["x"]) == set(FEATURE_NAMES) for ln in lines)
    # an out-of-scope line is never "right"; an in-scope line's top-1 implies its top-3
    assert not any(ln["top1"] or ln["top3"] for ln in lines if ln["kind"] == "out")
    assert all(ln["top3"] for ln in lines if ln["top1"])
    assert fit.generate(CORPUS, seed=3) == lines  # deterministic for a seed


def test_fit_respects_the_signs_and_chooses_cutoffs_on_generated_lines(lines):
    model = fit.fit(lines)
    assert model["features"] == list(FEATURE_NAMES)
    for part in ("answer", "helped"):
        for name, c in model[part]["coef"].items():
            assert c * fit.SIGNS[name] >= 0, (part, name, c)
    cal = Calibration.from_dict(model)
    assert 0 < cal.suggest_at < 1 and 0 < cal.answer_at < 1
    assert model["fitted_on"]["lines"] == len(lines)


def test_the_answer_models_are_fitted_on_in_scope_lines_and_scope_on_all(lines):
    model = fit.fit(lines)
    assert {"scope", "answer", "helped", "scope_at", "answer_at", "suggest_at"} <= set(model)
    cal = Calibration.from_dict(model)
    # P(scope) tells the generated in-scope lines from the out-of-scope ones better than chance
    p_in = [cal.probabilities(ln["x"])[0] for ln in lines if ln["kind"] == "in"]
    p_out = [cal.probabilities(ln["x"])[0] for ln in lines if ln["kind"] == "out"]
    assert sum(p_in) / len(p_in) > sum(p_out) / len(p_out)
    # the decision: answer only when both questions say yes
    strong = max(lines, key=lambda ln: cal.probabilities(ln["x"])[0] * cal.probabilities(ln["x"])[1])["x"]
    p_scope, p_answer, _ = cal.probabilities(strong)
    expected = "answer" if p_scope >= cal.scope_at and p_answer >= cal.answer_at else cal(strong)
    assert cal(strong) == expected


def test_a_blend_is_half_an_unlisted_phrasing_and_half_a_listed_one():
    rng = random.Random(4)
    out = {fit._blend("Làm thẻ căn cước hết bao nhiêu tiền?", "Phí làm căn cước gắn chip", "vi", rng) for _ in range(8)}
    assert out == {"Làm thẻ căn cước cước gắn chip", "Phí làm căn hết bao nhiêu tiền?"}
    assert fit._blend("办身份证多久能拿到？", "身份证办理时限", "zh", random.Random(1)) in {
        "办身份证办理时限",
        "身份证办到？",
    }
    assert fit._blend("Hi", "How much", "en", rng) is None


def test_generated_in_scope_lines_come_from_three_generators_weighted_alike(lines):
    groups = {fit._group(ln) for ln in lines if ln["kind"] == "in"}
    assert groups == {"listed", "blend", "paraphrase"}
    ws = fit._weights(lines)
    share = {g: sum(w for ln, w in zip(lines, ws, strict=True) if fit._group(ln) == g) / sum(ws) for g in groups}
    assert all(abs(v - fit.IN_SCOPE_SHARE / 3) < 1e-9 for v in share.values())


def test_a_dropped_word_is_filler_not_the_subject():
    for seed in range(10):
        styles = dict(fit.perturbations("Làm thẻ căn cước hết bao nhiêu tiền?", "vi", random.Random(seed)))
        assert "căn" in styles["dropped"] and "cước" in styles["dropped"]


def test_signed_fit_drops_a_feature_that_would_act_against_its_sign():
    # given data where "salient_unknown" (sign -1) rises with the label
    rng = random.Random(5)
    xs, ys = [], []
    for _ in range(400):
        y = rng.random() < 0.5
        row = [rng.random() for _ in FEATURE_NAMES]
        row[FEATURE_NAMES.index("salient_unknown")] = 0.8 if y else 0.2
        xs.append(row)
        ys.append(1.0 if y else 0.0)
    # when
    beta = fit.fit_signed(xs, ys, [1.0] * len(xs))
    # then it is left out rather than fitted with the wrong sign
    assert beta[1 + FEATURE_NAMES.index("salient_unknown")] == 0.0
    assert fit.fit_logistic(xs, ys, [1.0] * len(xs))[1 + FEATURE_NAMES.index("salient_unknown")] > 0


def test_leave_one_account_out_scores_each_account_with_a_model_that_never_saw_it(lines):
    per_account = fit.leave_one_account_out(lines)
    assert set(per_account) == {"police", "health"}
    pooled = fit.pooled(per_account)
    assert pooled["all"]["lines"] == len(lines)
    assert 0 <= pooled["all"]["wrong"] <= 1 and 0 <= pooled["all"]["helped"] <= 1


def test_objective_charges_a_wrong_answer_three_right_ones():
    right = {"kind": "in", "top1": True, "top3": True}
    wrong = {"kind": "in", "top1": False, "top3": True}
    both = [right, right, right, wrong]
    assert fit.objective(both, [1.0] * 4, ["answer"] * 4) < fit.objective(both, [1.0] * 4, ["answer"] * 3 + ["suggest"])


def test_perturbations_type_like_citizens():
    styles = dict(fit.perturbations("Làm thẻ căn cước hết bao nhiêu tiền?", "vi", random.Random(1)))
    assert styles["no_diacritics"] == "lam the can cuoc het bao nhieu tien"
    assert "căn cước" in styles["greeting"] and styles["greeting"] != styles["plain"]
    assert styles["verbose"].endswith("Làm thẻ căn cước hết bao nhiêu tiền?")
    assert len(styles["dropped"].split()) == len(styles["plain"].split()) - 1
    assert styles["typo"] != styles["plain"].lower()
    assert "傳" in dict(fit.perturbations("请问传真号码是多少", "zh", random.Random(1)))["traditional"]


def test_nothing_imports_the_lab_at_run_time():
    import subprocess
    import sys

    code = "import sys, faq.matcher, faq.calibration, faq.salience; print('faq.lab' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_reliability_compares_held_out_probability_with_how_often_the_top_entry_is_right(lines):
    bands = fit.reliability(lines, bins=4)
    assert [b["band"] for b in bands] == [(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)]
    assert sum(b["lines"] for b in bands) == len(lines)
    for i, b in enumerate(bands):
        if b["lines"]:
            assert i / 4 <= b["predicted"] <= (i + 1) / 4  # the mean P of a band lies in the band
            assert 0.0 <= b["observed"] <= 1.0
    # out-of-scope lines are never right: where they are all a band holds, it observes 0
    assert bands[0]["observed"] < bands[-1]["observed"] or not bands[-1]["lines"]


def test_signed_fit_reads_only_the_features_it_is_given():
    rng = random.Random(7)
    xs = [[rng.random() for _ in FEATURE_NAMES] for _ in range(300)]
    ys = [1.0 if x[FEATURE_NAMES.index("lead")] + 0.3 * rng.random() > 0.6 else 0.0 for x in xs]
    beta = fit.fit_signed(xs, ys, [1.0] * len(xs), features=("lead", "distinct"))
    assert beta[1 + FEATURE_NAMES.index("lead")] > 0
    assert all(beta[1 + j] == 0.0 for j, n in enumerate(FEATURE_NAMES) if n not in ("lead", "distinct"))


def test_an_other_topic_line_loses_the_words_that_carry_its_topic():
    # given the police account's index and everyday words that are not the account's
    police = CORPUS["accounts"][0]
    m = fit.Matcher(fit.entries_of(police), language="vi", decide=fit._no_decision)
    everyday = ["thời", "tiết", "giá", "vàng"]
    # when
    swapped = fit._swap_topic("Bị mất thẻ căn cước thì làm lại thế nào?", m, everyday, random.Random(2))
    # then the topic ("căn cước", "thẻ") is gone, the filler ("thì", "thế nào") stays: it is about something else
    assert "căn" not in swapped and "cước" not in swapped
    assert "thì" in swapped.split() and swapped.endswith("thế nào?")


def test_a_question_another_entry_lists_is_not_generated_as_out_of_scope(monkeypatch):
    # given two entries of one account that list the same question
    corpus = {
        "accounts": [
            {
                "slug": "desk",
                "language": "en",
                "faqs": [
                    {
                        "key": "a",
                        "question": "How do I renew my passport?",
                        "variants": ["Passport renewal steps", "Passport fee for children"],
                    },
                    {"key": "b", "question": "How do I renew my passport", "variants": ["Passport photo rules"]},
                ],
            }
        ]
    }
    monkeypatch.setattr(fit, "perturbations", lambda text, language, rng: [("plain", text), ("informal", text.lower())])
    # when
    lines = fit.generate(corpus, seed=1)
    # then leaving either entry out does not make "how do I renew my passport" a message the account cannot answer
    missing = [ln for ln in lines if ln["style"].startswith("missing-")]
    # nor "Passport renewal steps" (the words of b's "How do I renew my passport" that matter, within it); only
    # "Passport fee for children" ("Passport photo rules" shares no word with the other entry: nothing ranks)
    assert [ln["text"] for ln in missing] == ["Passport fee for children"]


def test_written_lines_are_ranked_by_the_full_index_and_weigh_their_share(lines, tmp_path):
    # given hand-written messages, one of an unknown account and one with a key the corpus lacks
    path = tmp_path / "written.jsonl"
    rows = [
        {"account": "police", "text": "làm căn cước mất bao nhiêu tiền", "expect": "id-fee", "style": "informal"},
        {"account": "police", "text": "giá xăng hôm nay bao nhiêu", "expect": None, "style": "out_of_scope"},
        {"account": "nobody", "text": "làm căn cước mất bao nhiêu tiền", "expect": None, "style": "plain"},
        {"account": "police", "text": "làm căn cước mất bao nhiêu tiền", "expect": "no-such-key", "style": "plain"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    # when
    written = fit.written(CORPUS, path)
    # then the two known lines are kept, labelled like generated ones
    assert [(ln["kind"], ln["style"], ln["written"]) for ln in written] == [
        ("in", "written-informal", True),
        ("out", "written-out_of_scope", True),
    ]
    assert written[0]["top1"] and set(written[0]["x"]) == set(FEATURE_NAMES)
    # and together they weigh WRITTEN_SHARE of the fit, the generated lines the rest in their own proportions
    both = [*lines, *written]
    ws = fit._weights(both)
    assert abs(sum(ws[len(lines) :]) / sum(ws) - fit.WRITTEN_SHARE) < 1e-9
    alone = fit._weights(lines)
    assert abs(ws[0] / ws[1] - alone[0] / alone[1]) < 1e-9
    # and the leave-one-account-out estimate scores generated lines only
    assert fit.pooled(fit.leave_one_account_out(both))["all"]["lines"] == len(lines)


def test_a_missing_written_file_fits_on_generated_lines_alone(tmp_path):
    assert fit.written(CORPUS, tmp_path / "absent.jsonl") == []
