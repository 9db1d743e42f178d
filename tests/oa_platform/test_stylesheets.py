"""The shipped stylesheets parse: braces balance and nothing nests deeper than an @media block.

A lost brace (easy in a merge of two sections appended to the one shared stylesheet) silently moves every
later rule inside a media query: they then apply only at some widths."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "oa_platform" / "static"
SHEETS = sorted(STATIC.rglob("*.css"))


def nesting_problems(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    depth, problems = 0, []
    for number, line in enumerate(css.split("\n"), 1):
        for char in line:
            if char == "{":
                depth += 1
                if depth > 2:
                    problems.append(f"line {number}: a block nested {depth} deep")
            elif char == "}":
                depth -= 1
                if depth < 0:
                    problems.append(f"line {number}: a closing brace with nothing open")
                    depth = 0
    if depth:
        problems.append(f"{depth} block(s) left open at the end")
    return problems


def test_the_check_finds_a_lost_brace():
    assert nesting_problems("@media (min-width: 9px) {\n a { b: c; }\n@media (x) { d { e: f; } }\n")


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_stylesheet_braces_balance(sheet):
    assert nesting_problems(sheet.read_text()) == [], sheet
