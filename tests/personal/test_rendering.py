import pytest

from broadcasts.personal.rendering import MissingValues, placeholders, render, render_html, sms_length


def test_placeholders_in_order_once_case_insensitive():
    assert placeholders("((Name)) ở ((place)), ((name))", "((date))") == ["name", "place", "date"]
    assert placeholders("no (placeholder) here ((  ))") == []


def test_render_fills_and_names_the_missing_ones():
    assert render("Chào ((name))!", {"name": "An"}) == "Chào An!"
    with pytest.raises(MissingValues) as exc:
        render("((name)) ((date)) ((place))", {"name": "An", "date": "  "})
    assert exc.value.names == ["date", "place"]


def test_a_value_is_not_rendered_again():
    # a value that looks like a placeholder stays as it is
    assert render("((a)) ((b))", {"a": "((b))", "b": "x"}) == "((b)) x"


def test_render_html_escapes_template_and_values():
    html = render_html("<b>((name))</b>\nok", {"name": "<script>alert(1)</script>"})
    assert html == "&lt;b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/b&gt;<br>ok"


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters count two septets
        ("[" * 81, "GSM-7", 162, 2),
        ("ă" * 70, "UCS-2", 70, 1),
        ("ă" * 71, "UCS-2", 71, 2),
        ("Chào bạn" + "a" * 126, "UCS-2", 134, 2),
        ("ă" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units each
    ],
)
def test_sms_segments(text, encoding, units, segments):
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)
