"""Accessibility scans with axe-core (axe-playwright-python ships axe.min.js; nothing is fetched).

``assert_accessible(page)`` runs axe on the page as it is now and fails on every serious or critical
violation, naming the rule, the elements and axe's help text."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

BLOCKING = {"serious", "critical"}
_axe = Axe()


def serious_violations(page) -> list[dict]:
    results = _axe.run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def assert_accessible(page) -> None:
    found = serious_violations(page)
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}: " + ", ".join(str(n["target"]) for n in v["nodes"][:5]) for v in found
    )
    assert not found, f"axe found serious or critical violations on {page.url}:\n{report}"
