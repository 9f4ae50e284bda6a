"""The headless-browser check: DOM and screenshot checks always; the Chromium run only when Chromium is installed."""
import base64
import io
import shutil

import numpy as np
import pytest
from matplotlib.figure import Figure as MplFigure

from flatminima.reports.browser_check import check_dom, check_in_browser, check_screenshot, find_chromium, main
from flatminima.reports.render import write_report
from test_render import make_result

needs_chromium = pytest.mark.skipif(not (shutil.which("/usr/bin/chromium") or shutil.which("chromium")),
                                    reason="Chromium is not installed")


def _png(pixels: np.ndarray) -> bytes:
    fig = MplFigure(figsize=(pixels.shape[1] / 100, pixels.shape[0] / 100), dpi=100)
    fig.figimage(pixels, cmap="gray", vmin=0, vmax=1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def test_blank_screenshot_is_flagged_and_a_page_is_not(tmp_path):
    blank = tmp_path / "blank.png"
    blank.write_bytes(_png(np.ones((200, 300))))
    found = check_screenshot(blank)
    assert found["problems"] and "blank" in found["problems"][0] and found["ink_fraction"] < 0.005
    page = np.ones((200, 300))
    page[20:40, 10:200] = 0.0                                # a line of "text"
    page[80:180, 50:250] = np.linspace(0, 1, 200)            # a "figure"
    busy = tmp_path / "page.png"
    busy.write_bytes(_png(page))
    found = check_screenshot(busy)
    assert found["problems"] == [] and found["ink_fraction"] > 0.1
    assert check_screenshot(tmp_path / "missing.png")["problems"]


def test_dom_check_counts_math_and_embedded_pngs():
    png = base64.b64encode(_png(np.zeros((10, 10)))).decode()
    good = f'<p><math><mi>x</mi></math></p><img src="data:image/png;base64,{png}" alt="f">'
    found = check_dom(good)
    assert (found["math_elements"], found["figures"], found["problems"]) == (1, 1, [])
    bad = '<p>no math</p><img src="https://example.org/f.png"><script>1</script><a href="//cdn.x/y">y</a>'
    found = check_dom(bad)
    assert found["math_elements"] == 0 and found["figures"] == 0 and found["bad_figures"] == 1
    assert found["external_refs"] == 2 and found["scripts"] == 1 and len(found["problems"]) == 5


def test_missing_html_is_an_error(tmp_path, capsys):
    assert main([str(tmp_path / "nope.html"), str(tmp_path / "shot.png")]) == 2
    assert "nope.html" in capsys.readouterr().err


@needs_chromium
def test_report_renders_in_headless_chromium(tmp_path):
    result = make_result()
    result.figures = [f for f in result.figures if f.kind in ("fit", "histogram")]   # keep the test short
    html = write_report(tmp_path, result)[1]
    found = check_in_browser(html, tmp_path / "shot.png")
    assert found["ok"], found["problems"]
    assert found["chromium"] == find_chromium()
    assert found["math_elements"] >= 8 and found["figures"] == len(result.figures)
    assert (found["width"], found["height"]) == (1200, 2000) and found["ink_fraction"] > 0.01
