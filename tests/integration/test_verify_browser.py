"""The verify report in a real browser: headless Chromium from Debian's packages
(scripts/install_browser.sh, `make browser`), driven by Playwright for Python through
executable_path (Playwright's own browser downloads are not used).

The page is the role's template (roles/verify/templates/verify.html.j2) rendered with records of
two account/regions, one control failing. The test checks what the page shows -- the counts, the
failing cell, its evidence after a click, the filters -- makes sure it loads nothing from the
network, and keeps a screenshot in tests/output/. Without Chromium the test fails and says how to
install it; BASELINE_SKIP_BROWSER=1 skips it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jinja2
import pytest
from ansible_collections.secureinfra.baseline.plugins.filter.verify import verify_summary

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "roles" / "verify" / "templates" / "verify.html.j2"
OUTPUT = REPO_ROOT / "tests" / "output"
ACCOUNT = "123456789012"


def chromium() -> str:
    if os.environ.get("BASELINE_SKIP_BROWSER") == "1":
        pytest.skip("BASELINE_SKIP_BROWSER=1: the browser test of the verify report is skipped")
    path = os.environ.get("BASELINE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Chromium is missing: install Debian's package with `make browser` (scripts/install_browser.sh, "
            "apt-get install chromium), point BASELINE_CHROMIUM at a Chromium binary, "
            "or set BASELINE_SKIP_BROWSER=1 to skip this test"
        )
    return path


def record(
    control_id: str, service: str, region: str, status: str, evidence: dict[str, Any]
) -> dict[str, Any]:
    return {
        "control_id": control_id,
        "title": f"{control_id} title",
        "service": service,
        "related": ["CIS 2.1.1"] if control_id == "S3.5" else [],
        "account": ACCOUNT,
        "region": region,
        "status": status,
        "evidence": evidence,
    }


def records() -> list[dict[str, Any]]:
    result = []
    for region in ("us-east-1", "us-west-1"):
        bucket = f"p-logs-{ACCOUNT}-{region}"
        tls = {"ok": region == "us-east-1", "has_policy": True, "note": f"DenyInsecureTransport of {bucket}"}
        result += [
            record("S3.5", "S3", region, "pass" if tls["ok"] else "fail", {bucket: tls}),
            record("S3.14", "S3", region, "pass", {bucket: {"ok": True, "status": "Enabled"}}),
            record("KMS.4", "KMS", region, "pass", {"alias/p-baseline": {"ok": True, "rotation": True}}),
            record(
                "IAM.7",
                "IAM",
                region,
                "pass" if region == "us-east-1" else "not_applicable",
                {"reason": "account-wide: evaluated in the home region us-east-1</script><b>x</b>"},
            ),
        ]
    return result


def render(path: Path) -> None:
    data = records()
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    env.filters["to_json"] = json.dumps
    page = env.from_string(TEMPLATE.read_text()).render(
        verify_summary=verify_summary(data), verify_all_records=data
    )
    path.write_text(page)


def test_report_in_chromium(tmp_path: Path):
    executable = chromium()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is pinned in requirements-dev.lock"
    )
    report = tmp_path / "verify.html"
    render(report)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    network: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: network.append(request.url))
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(report.as_uri())

            assert page.text_content("#summary") == (
                "verify: 2 account/regions, 4 controls, 6 passed, 1 failed, 1 not applicable"
            )
            counts = {
                name: page.text_content(f"#count-{name}") for name in ("places", "controls", "pass", "fail")
            }
            assert counts == {"places": "2", "controls": "4", "pass": "6", "fail": "1"}
            assert page.text_content("#count-not_applicable") == "1"
            headers = page.locator("#matrix thead th").all_text_contents()
            assert headers == ["control", "service", f"{ACCOUNT}/us-east-1", f"{ACCOUNT}/us-west-1"]

            failing = page.locator(f'tr[data-control="S3.5"] td.cell[data-place="{ACCOUNT}/us-west-1"]')
            assert failing.text_content() == "FAIL"
            assert "fail" in failing.get_attribute("class").split()
            assert page.locator("td.cell.fail").count() == 1
            failing.click()
            assert page.text_content("#evidence-title") == f"S3.5 in {ACCOUNT}/us-west-1: fail"
            evidence = json.loads(page.text_content("#evidence-body"))
            assert evidence == {
                f"p-logs-{ACCOUNT}-us-west-1": {
                    "ok": False,
                    "has_policy": True,
                    "note": f"DenyInsecureTransport of p-logs-{ACCOUNT}-us-west-1",
                }
            }
            # The screenshot kept: the failing cell selected, its evidence shown.
            page.screenshot(path=str(OUTPUT / "verify-report.png"), full_page=True)
            # The evidence of a "</script>" string stays text: the page still has its rows.
            page.locator(f'tr[data-control="IAM.7"] td.cell[data-place="{ACCOUNT}/us-west-1"]').click()
            assert "</script><b>x</b>" in page.text_content("#evidence-body")

            page.select_option("#filter-status", "fail")
            visible = page.locator("#matrix tbody tr:not([hidden])")
            assert visible.evaluate_all("rows => rows.map(r => r.dataset.control)") == ["S3.5"]
            assert page.text_content("#shown") == "1 of 4 controls shown"
            page.select_option("#filter-status", "")
            page.select_option("#filter-service", "S3")
            assert visible.evaluate_all("rows => rows.map(r => r.dataset.control)") == ["S3.5", "S3.14"]
            page.screenshot(path=str(OUTPUT / "verify-report-filtered.png"), full_page=True)
            assert not errors
        finally:
            browser.close()
    assert [url for url in network if not url.startswith("file://")] == []
    assert (OUTPUT / "verify-report.png").stat().st_size > 10_000
