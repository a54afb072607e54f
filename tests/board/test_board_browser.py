"""The board in headless Chromium (Debian's chromium + chromium-driver, driven by selenium):
a manager logs in through WeCom OAuth, sees a held order in red, releases it, sees it green.

Skipped where the browser is not installed, except under CI=true (scripts/setup installs it).
A screenshot of the board is kept at $BOARD_SCREENSHOT when that is set.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.board.conftest import Board
from tests.push.harness import MANAGER_ID

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser() -> Iterator[object]:
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true needs chromium and chromium-driver (scripts/setup installs them)")
        pytest.skip("chromium / chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1100", "--lang=zh-CN"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(10)  # a loaded machine may still be rendering the next page
    try:
        yield driver
    finally:
        driver.quit()


async def test_manager_releases_a_held_order_from_the_board_in_chromium(sqlite_board: Board, browser) -> None:
    from selenium.webdriver.common.by import By

    board = sqlite_board
    _, held = await board.order(quantity=200_000)  # more than in stock: held
    _, fine = await board.order(quantity=100)
    board.standin.oauth_user = MANAGER_ID

    def in_bucket(number: str) -> str:
        item = browser.find_element(By.ID, f"o-{number}")
        return item.find_element(By.XPATH, "ancestor::section[contains(@class, 'bucket')]").get_attribute("id")

    def run() -> tuple[str, str, str, str]:
        browser.get(f"{board.url}/board/")  # → login → stand-in authorize → /board/oauth → /board/
        assert urlsplit(browser.current_url).path == "/board/", browser.current_url
        before = in_bucket(held), in_bucket(fine)
        if path := os.environ.get("BOARD_SCREENSHOT"):
            browser.save_screenshot(path)
        browser.find_element(By.CSS_SELECTOR, f'#o-{held} input[name="reason"]').send_keys("老客户，已电话核实")
        browser.find_element(By.CSS_SELECTOR, f'#o-{held} button[data-order="{held}"]').click()
        notice = browser.find_element(By.CSS_SELECTOR, "p.notice").text
        after = in_bucket(held)
        browser.find_element(By.LINK_TEXT, held).click()  # one click to the order's history
        history = browser.find_element(By.CSS_SELECTOR, "table.events").text
        if path := os.environ.get("BOARD_SCREENSHOT"):
            browser.save_screenshot(path.replace(".png", "-order.png"))
        return *before, after, notice, history

    held_before, fine_before, held_after, notice, history = await asyncio.to_thread(run)
    assert (held_before, fine_before) == ("bucket-red", "bucket-green")
    assert held_after == "bucket-green"
    assert f"订单 {held} 已放行" in notice
    assert "挂起" in history and "放行" in history and MANAGER_ID in history
