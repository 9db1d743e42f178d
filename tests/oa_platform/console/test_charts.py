"""The inline SVG chart of the Today page: a pure function, accessible, escaped, gaps for empty days."""

import re
import xml.etree.ElementTree as ET

import pytest

from oa_platform.console.charts import HEIGHT, PAD_BOTTOM, PAD_TOP, Point, daily_rate_svg

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_one_bar_per_measured_day_with_height_proportional_to_the_rate():
    # given three days: 100 %, nothing asked, 50 %
    svg = parse(
        daily_rate_svg(
            [Point("01/12", 100), Point("02/12", None), Point("03/12", 50)], title="T", description="D", chart_id="c"
        )
    )
    bars = svg.findall(f"{SVG}rect")
    # then two bars (the empty day is a gap, not a zero), the first twice as tall as the second
    assert len(bars) == 2
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == pytest.approx(HEIGHT - PAD_TOP - PAD_BOTTOM)
    assert heights[0] == pytest.approx(2 * heights[1])
    # and each bar tells its day and value to a pointer or a screen reader
    assert [b.find(f"{SVG}title").text for b in bars] == ["01/12: 100%", "03/12: 50%"]
    # a zero-rate day is a bar of height 0 (measured), not a gap
    zero = parse(daily_rate_svg([Point("a", 0)], title="T", description="D", chart_id="c")).findall(f"{SVG}rect")
    assert [float(b.get("height")) for b in zero] == [0.0]


def test_the_chart_is_an_image_with_a_title_and_description_for_assistive_technology():
    svg = parse(daily_rate_svg([Point("01/12", 80)], title="Tỉ lệ trả lời", description="8 trong 10", chart_id="rate"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "rate-t rate-d"
    assert svg.find(f"{SVG}title").get("id") == "rate-t" and svg.find(f"{SVG}title").text == "Tỉ lệ trả lời"
    assert svg.find(f"{SVG}desc").text == "8 trong 10"
    # the first and last day label the axis
    texts = [t.text for t in svg.findall(f"{SVG}text")]
    assert "01/12" in texts and "100%" in texts and "0%" in texts


def test_text_is_escaped_values_are_clamped_and_the_markup_is_csp_clean():
    markup = daily_rate_svg(
        [Point("<b>x</b>", 250), Point("y", -5)], title='"><script>alert(1)</script>', description="&", chart_id="c"
    )
    assert "<script" not in markup and "<b>" not in markup
    svg = parse(markup)  # well-formed XML
    heights = [float(b.get("height")) for b in svg.findall(f"{SVG}rect")]
    assert heights == [pytest.approx(HEIGHT - PAD_TOP - PAD_BOTTOM), 0.0]
    assert not re.search(r"\sstyle=|\son\w+=", markup)


def test_an_empty_series_and_a_bad_id():
    svg = parse(daily_rate_svg([], title="T", description="D", chart_id="c"))
    assert svg.findall(f"{SVG}rect") == []
    with pytest.raises(ValueError):
        daily_rate_svg([], title="T", description="D", chart_id='x" onload="y')
