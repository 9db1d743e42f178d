from faq.normalize import Normalizer
from faq.question_types import QuestionTyper


def _types(language, text):
    normalizer = Normalizer(language)
    return QuestionTyper(normalizer).types(normalizer(text).folded_text)


def test_english_cue_words_type_informal_questions():
    assert "fee" in _types("en", "How much is it to renew an ID card?")
    assert "fee" in _types("en", "is it free for kids")
    assert "duration" in _types("en", "what's the processing time")
    assert "lost" in _types("en", "I can't find my licence")
    assert "documents" in _types("en", "what should i bring")


def test_a_statement_without_cues_is_untyped():
    assert _types("en", "my licence") == frozenset()
