"""The browser check of the report (tests/browser.py) catches what it is meant to catch."""

from pathlib import Path

from PIL import Image

import browser


def test_browser_view_reports_console_errors_and_broken_images(tmp_path):
    Image.new("RGB", (4, 3), "red").save(tmp_path / "ok.png")
    page = tmp_path / "page.html"
    page.write_text('<!DOCTYPE html><html><head><title>t</title></head><body><img src="ok.png">'
                    '<img src="missing.png"><script>console.error("boom")</script></body></html>')
    view = browser.view(page, tmp_path / "shot.png")
    assert view.title == "t"
    assert [(Path(i["src"]).name, i["naturalWidth"]) for i in view.images] == [("ok.png", 4), ("missing.png", 0)]
    assert "boom" in view.console_errors
    assert any("ERR_FILE_NOT_FOUND" in e for e in view.console_errors)
    assert Image.open(tmp_path / "shot.png").size[0] == 640  # 1280 px wide at scale 0.5
