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

import pytest
from report_stores import evolution_store, training_store

from opto.report import build_report

pytestmark = pytest.mark.integration

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not CHROMEDRIVER.exists() or not Path(CHROMIUM).exists():
        pytest.skip("chromium / chromedriver missing: run `bash scripts/setup.sh --browser` (as root, Debian)")
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


def _check_page(driver: object, html: Path, shot: Path) -> list[dict[str, object]]:
    d: object = driver
    d.get(html.resolve().as_uri())  # type: ignore[attr-defined]
    d.execute_script("return document.readyState")  # type: ignore[attr-defined]
    images = d.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.images).map(i => ({src: i.src.slice(0, 40), alt: i.alt, complete: i.complete,"
        " w: i.getBoundingClientRect().width, h: i.getBoundingClientRect().height, nw: i.naturalWidth}))")
    height = d.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    d.set_window_size(1280, min(int(height) + 40, 12000))  # type: ignore[attr-defined]
    assert d.save_screenshot(str(shot))  # type: ignore[attr-defined]
    logs = d.get_log("browser")  # type: ignore[attr-defined]
    d.set_window_size(1280, 900)  # type: ignore[attr-defined]
    problems = [entry for entry in logs if entry.get("level") in ("SEVERE", "WARNING")]
    assert not problems, f"console messages on {html.name}: {problems}"
    return list(images)


@pytest.mark.parametrize("make", [evolution_store, training_store], ids=["evolution", "training"])
def test_report_loads_without_console_errors_and_every_image_has_a_size(browser: object, tmp_path: Path,
                                                                         make: object) -> None:
    store = make(tmp_path / "run.db")  # type: ignore[operator]
    html = build_report(store, tmp_path / "report.html")
    shot = tmp_path / "report.png"
    images = _check_page(browser, html, shot)
    assert len(images) >= 5
    for img in images:
        assert img["complete"] and img["nw"] > 0, f"image did not decode: {img}"
        assert img["w"] > 0 and img["h"] > 0, f"image has no rendered size: {img}"
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
