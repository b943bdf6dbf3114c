"""The report in a real headless browser: Debian's chromium + chromedriver driven by selenium.

No browser is downloaded: selenium is pointed at /usr/bin/chromedriver and told to stay offline
(SE_OFFLINE), so Selenium Manager never runs. ``scripts/setup.sh --browser`` (part of ``--all``)
installs the two Debian packages.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_stores import evolution_store, training_store

from opto.report import build_report

pytestmark = pytest.mark.integration

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not CHROMEDRIVER.exists() or not Path(CHROMIUM).exists():
        pytest.skip("chromium / chromedriver missing: run `bash scripts/setup.sh --browser` (as root, Debian)")
    before = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager look for a driver online
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        if before is None:
            os.environ.pop("SE_OFFLINE", None)
        else:
            os.environ["SE_OFFLINE"] = before


def _check_page(driver: Any, html: Path, shot: Path) -> list[dict[str, Any]]:
    """Load the page; return its images' sizes; save a full-page screenshot; fail on console messages."""
    driver.get(html.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    images = driver.execute_script(
        "return Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, nw: i.naturalWidth,"
        " w: i.getBoundingClientRect().width, h: i.getBoundingClientRect().height}))")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 40, 12000))
    assert driver.save_screenshot(str(shot))
    driver.set_window_size(1280, 900)
    problems = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "WARNING")]
    assert not problems, f"console messages on {html.name}: {problems}"
    return list(images)


@pytest.mark.parametrize("make", [evolution_store, training_store], ids=["evolution", "training"])
def test_report_loads_without_console_errors_and_every_image_has_a_size(browser: Any, tmp_path: Path,
                                                                         make: Any) -> None:
    store = make(tmp_path / "run.db")
    html = build_report(store, tmp_path / "report.html")
    shot = tmp_path / "report.png"
    images = _check_page(browser, html, shot)
    assert len(images) >= 5
    for img in images:
        assert img["complete"] and img["nw"] > 0, f"image did not decode: {img}"
        assert img["w"] > 0 and img["h"] > 0, f"image has no rendered size: {img}"
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_the_checks_catch_console_errors_and_broken_images(browser: Any, tmp_path: Path) -> None:
    """The two checks above can fail: a page that logs an error, and an image that does not load."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                    '<script>console.error("boom")</script></body></html>')
    with pytest.raises(AssertionError, match="boom"):
        _check_page(browser, page, tmp_path / "bad.png")
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                    '<img src="data:image/png;base64,AAAA" alt="broken"></body></html>')
    images = _check_page(browser, page, tmp_path / "bad.png")
    assert images and images[0]["nw"] == 0  # what the report test rejects
