"""Issue 19 item 3 in real Chromium: the who-gains view opened from an address (grouped by economic
status) shows the groups in Chinese, and the chart's CSV download is its table with a UTF-8 BOM."""

from __future__ import annotations

from pathlib import Path

from app_browser import TIMEOUT_MS
from test_app_state_e2e import _address, _open


def test_who_view_by_econ_status_downloads_its_chart_table(server, browser):
    url, log = server
    page = _open(browser, _address(url, s="ninghe_allowances.toml", view="who", g="econ_status"))
    view = page.locator(".st-key-view_who")
    # st.dataframe draws on a canvas; its cells exist in the page as a hidden accessibility table
    view.get_by_text("低保边缘").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    button = view.get_by_role("button", name="CSV", exact=True).first
    button.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as got:
        button.click()
    assert got.value.suggested_filename.endswith("who_per_head_econ_status.csv")
    data = Path(got.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[0] == "经济状况" and len(lines) > 2  # headers follow the Chinese page
    assert "Traceback" not in log.read_text()
    page.close()
