"""The browser view in a real browser: the Solara server driven by headless Chromium.

Starts ``solara run experiments/app.py`` on a free localhost port and drives it with
Playwright (Debian's ``chromium``; Playwright's own browser downloads are not used).
Skipped when Playwright or Chromium is missing, except in CI (``CI=true``), where a
missing browser is a failure. Screenshots go to ``tests/artifacts/``; with
``GRIDLEDGER_DOCS_SCREENSHOT=1`` the live page is also saved as ``docs/img/viz.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 120
VIEWPORT = {"width": 1600, "height": 1250}


def _missing(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    _missing("Chromium not installed (apt-get install chromium)")
    raise AssertionError  # unreachable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the app server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the app server did not answer within {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("viz-server") / "server.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("GRIDLEDGER_VIZ_OVERRIDES", None)
    command = [
        sys.executable, "-m", "solara", "run", str(REPO / "experiments" / "app.py"),
        "--port", str(port), "--host", "127.0.0.1", "--production",
    ]  # fmt: skip
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the environment
        _missing("playwright is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _step_count(page) -> int:
    text = page.get_by_text("Step: ", exact=False).filter(has_not_text="this step").inner_text()
    return int(text.split(":")[1])


def _no_error_box(page) -> None:
    errors = page.locator(".v-alert.error")
    assert errors.count() == 0, errors.all_inner_texts()


def test_step_play_pause_verify_in_chromium(app_url, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.get_by_text("Step: 0", exact=True).wait_for(timeout=90_000)
    grid_map = page.locator("img.solara-image").first
    grid_map.wait_for()
    _no_error_box(page)
    before = grid_map.screenshot()

    step = page.get_by_role("button", name="Step", exact=True)
    for n in range(1, 4):
        step.click()
        page.get_by_text(f"Step: {n}", exact=True).wait_for(timeout=30_000)
    page.get_by_text("step 3 of 96").wait_for()
    assert grid_map.screenshot() != before, "the map did not change after three steps"
    _no_error_box(page)

    page.get_by_role("button", name="▶").click()
    deadline = time.monotonic() + 90
    while _step_count(page) < 48 and time.monotonic() < deadline:
        time.sleep(0.25)
    page.get_by_role("button", name="❚❚").click()
    assert _step_count(page) >= 48, "play did not advance the model"
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=30_000)
    clicked_at = _step_count(page)
    time.sleep(1.5)  # a step already under way when Pause was clicked may still finish
    paused_at = _step_count(page)
    assert paused_at <= clicked_at + 1
    time.sleep(1.5)
    assert _step_count(page) == paused_at, "the model kept stepping after pause"
    _no_error_box(page)

    page.get_by_role("button", name="Verify ledger so far").click()
    page.get_by_text("Ledger OK").wait_for(timeout=60_000)
    _no_error_box(page)
    time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / "viz.png"))
    if os.environ.get("GRIDLEDGER_DOCS_SCREENSHOT") == "1":
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(REPO / "docs" / "img" / "viz.png"))

    for index, heading, name in ((1, "Energy and market", "energy"), (2, "Chain", "chain")):
        page.get_by_role("tab", name=f"Page {index}").click()
        page.locator(".gl-heading", has_text=heading).wait_for(timeout=60_000)
        expect(page.locator(".gl-kpis")).to_have_count(0)  # page 0 is gone
        page.locator("img.solara-image").first.wait_for()
        time.sleep(0.5)
        _no_error_box(page)
        page.screenshot(path=str(ARTIFACTS / f"viz-{name}.png"))
    page.close()
