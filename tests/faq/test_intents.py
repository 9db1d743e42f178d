"""Small talk and broadcast commands are recognised before FAQ matching, conservatively."""

import pytest

from faq.intents import Intent, detect_intent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello ad", Intent("greeting")),
        ("chào sở y tế", Intent("greeting")),
        ("alo", Intent("greeting")),
        ("你好", Intent("greeting")),
        ("cảm ơn ad nhiều nha", Intent("thanks")),
        ("thanks!", Intent("thanks")),
        ("謝謝", Intent("thanks")),
        ("menu", Intent("help")),
        ("help", Intent("help")),
        ("cho em gặp nhân viên", Intent("human")),
        ("I want to talk to a human", Intent("human")),
        ("转人工", Intent("human")),
    ],
)
def test_small_talk(text, expected):
    assert detect_intent(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dang ky bao lu", Intent("subscribe", "storm-flood")),
        ("Đăng ký tiêm chủng", Intent("subscribe", "vaccination")),
        ("subscribe health", Intent("subscribe", "health")),
        ("subscribe to traffic alerts", Intent("subscribe", "traffic")),
        ("订阅 疫苗", Intent("subscribe", "vaccination")),
        ("訂閱交通", Intent("subscribe", "traffic")),
        ("huy tiem chung", Intent("unsubscribe", "vaccination")),
        ("hủy bão lũ", Intent("unsubscribe", "storm-flood")),
        ("unsubscribe traffic", Intent("unsubscribe", "traffic")),
        ("退订疫苗", Intent("unsubscribe", "vaccination")),
        ("stop", Intent("stop")),
        ("STOP", Intent("stop")),
        ("huy tat ca", Intent("stop")),
        ("退订", Intent("stop")),
        ("start", Intent("start")),
        ("dk tin chung", Intent("subscribe", "general")),
    ],
)
def test_subscription_commands(text, expected):
    assert detect_intent(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "đăng ký thường trú như thế nào",
        "huỷ đăng ký thường trú",
        "dang ky tam tru cho nguoi thue tro",
        "xin chào, how do I sign up for storm alerts?",
        "Hello ad, I want renew ID card, how much fee? cảm ơn",
        "How do I stop alerts or change the phone number they go to?",
        "Cho em xin số điện thoại của anh Tuấn",
        "bão số mấy sắp vào Đà Nẵng vậy ad",
        "你好，请问身份证怎么补办",
        "Thủ tục đăng ký xe máy",
        "",
        "   ",
        "😀",
    ],
)
def test_questions_are_not_swallowed(text):
    assert detect_intent(text) is None


def test_accented_bao_is_not_storm():
    # "báo" (report) typed with accents is not "bão" (storm)
    assert detect_intent("đăng ký báo") is None
    assert detect_intent("đăng ký bão") == Intent("subscribe", "storm-flood")


@pytest.mark.parametrize("text", [None, 123, "x" * 10_000, "\x00\x01", "<b>stop</b>' OR 1=1"])
def test_never_raises(text):
    detect_intent(text)


@pytest.mark.parametrize(
    "text",
    [
        "talk to a person",
        "I want to speak to someone",
        "can I talk to a real person please",
        "real person",
        "agent",
        "customer service",
        "I need a human",
        "connect me to an agent",
        "cho tôi nói chuyện với người thật",
        "cho toi noi chuyen voi nguoi that",
        "cho em gặp nhân viên ạ",
        "人工客服",
        "我要人工客服",
        "找真人",
        "帮我转人工",
    ],
)
def test_asking_for_a_person_is_the_human_intent(text):
    assert detect_intent(text) == Intent("human")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("good morning", "greeting"),
        ("xin chào ad", "greeting"),
        ("您好", "greeting"),
        ("thank you so much", "thanks"),
        ("cam on ad nhieu nhe", "thanks"),
        ("多谢你", "thanks"),
        ("谢谢大家", "thanks"),
    ],
)
def test_greetings_and_thanks_in_three_languages(text, kind):
    assert detect_intent(text) == Intent(kind)


@pytest.mark.parametrize("text", ["hello, thank you", "chào ad, cảm ơn nhiều", "hi thx", "cảm ơn ạ?", "thank you ?"])
def test_a_greeting_or_question_mark_before_thanks_at_the_end_is_still_thanks(text):
    # the thanks phrase may close the message: a match that leaves nothing after it still counts
    assert detect_intent(text) == Intent("thanks")


@pytest.mark.parametrize(
    "text",
    [
        "can I talk to someone about my ID card",
        "Someone stole my wallet",
        "can an agent renew my licence for me?",
        "nhân viên làm căn cước ở đâu",
        "cán bộ tiếp dân giờ nào",
        "找工作人员办身份证",
        "人工智能",
    ],
)
def test_hand_off_words_inside_a_question_are_not_a_command(text):
    assert detect_intent(text) is None
