"""Replacing the file while an analysis runs, in headless Chromium (see tests/test_browser.py for
the set-up). A demo host's trial (2026-12-05) found the page stuck on "<new file>: reading and
analysing… (no results yet)" for good: Gradio dropped the second analysis event while the first
was pending (the default trigger mode of a `.then`)."""

from __future__ import annotations

import time

import pytest
from app_helpers import launch_tiny_app
from test_browser import _need_chromium, chromium_page

pytestmark = pytest.mark.browser

SLOW_S = 3.0  # each analysis waits this long, so that the second file is chosen during the first


@pytest.fixture(scope="module")
def slow_page(tmp_path_factory):
    _need_chromium()
    demo, url = launch_tiny_app(tmp_path_factory.mktemp("race"))
    analyze = demo.engine.analyze

    def slow(*args, **kwargs):
        time.sleep(SLOW_S)
        return analyze(*args, **kwargs)

    demo.engine.analyze = slow
    yield from chromium_page(url)
    demo.close()


def test_a_file_chosen_during_an_analysis_is_analysed_and_shown(slow_page):
    from playwright.sync_api import expect

    page = slow_page
    page.get_by_text("mni_left_hyperintense.png").click()
    expect(page.locator("#score")).to_contain_text("reading and analysing")
    page.wait_for_timeout(800)  # the first analysis is running
    page.get_by_text("mni_right_hypointense.dcm").click()
    expect(page.locator("#score")).to_contain_text("mni_right_hypointense.dcm")
    # the second file's results arrive (they never did), and nothing of the first is shown
    expect(page.locator("#score")).to_contain_text("Anomaly score", timeout=4 * SLOW_S * 1000)
    expect(page.locator("#score")).not_to_contain_text("mni_left_hyperintense")
    expect(page.locator("#findings")).to_contain_text("mni_right_hypointense.dcm")
