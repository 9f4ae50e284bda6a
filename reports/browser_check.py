"""Open a report in headless Chromium: screenshot it, dump its DOM, check math, figures, layout and that it is not blank.

``python -m reports.browser_check FILE.html OUT.png`` prints the findings as JSON and exits 0 when the
page passes, 1 when it does not, 2 when Chromium is missing or fails. Chromium runs twice (one run for
``--screenshot`` of the page itself, one for ``--dump-dom``), each with a fresh profile and with networking
features off; the report itself needs no network.

Reports contain no scripts, and ``--dump-dom`` only serializes the DOM, so the layout is measured by a
temporary copy of the page with an injected probe (:data:`PROBE_SCRIPT`): after the load event it
measures the page's horizontal overflow (``scrollWidth`` against ``clientWidth`` of the root element),
every ``<math>`` element whose content is wider than its box (or taller, where its ``overflow`` is
auto or scroll) and every other element with ``overflow`` auto or scroll whose content is wider than
its box (such elements would show a scrollbar), and whether each
``<math>`` and ``<img>`` was laid out with a non-zero size; it writes these findings as JSON into a
hidden node, which the dumped DOM carries back to :func:`check_dom`.
"""
from __future__ import annotations

import argparse
import base64
import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["CHROMIUM_FLAGS", "PROBE_ID", "PROBE_SCRIPT", "ChromiumError", "check_dom", "check_in_browser",
           "check_screenshot", "find_chromium", "inject_probe", "read_probe"]

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--mute-audio")
WINDOW = (1200, 2000)
TIMEOUT_S = 120
VIRTUAL_TIME_MS = 5000     # --dump-dom waits for the load event and this much virtual time
# A page counts as blank when almost every pixel is one colour: fewer than this fraction differ from
# the most common colour, or the grey levels hardly vary.
MIN_INK_FRACTION = 0.005
MIN_PIXEL_STD = 0.01
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# The layout probe injected into a temporary copy of the page (never into the report itself).
PROBE_ID = "flatminima-layout-probe"
PROBE_SCRIPT = """<script id="%(id)s-script">
(function () {
  function name(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) { s += "#" + el.id; }
    if (typeof el.className === "string" && el.className) { s += "." + el.className.split(/\\s+/).join("."); }
    return s;
  }
  function hidden(el) { return el.closest("details:not([open])") !== null || el.getClientRects().length === 0; }
  function probe() {
    var root = document.documentElement, out = {
      page_scroll_width: root.scrollWidth, page_client_width: root.clientWidth,
      page_overflow_px: Math.max(0, root.scrollWidth - root.clientWidth),
      math_total: 0, math_rendered: 0, scrolling_math: [], img_total: 0, img_rendered: 0,
      overflowing_elements: []};
    var maths = document.getElementsByTagName("math");
    for (var i = 0; i < maths.length; i++) {
      var m = maths[i];
      if (hidden(m)) { continue; }
      out.math_total += 1;
      var r = m.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) { out.math_rendered += 1; }
      var tall = /auto|scroll/.test(getComputedStyle(m).overflowY) && m.scrollHeight > m.clientHeight + 1;
      if (m.clientWidth > 0 && (m.scrollWidth > m.clientWidth + 1 || tall)) {
        out.scrolling_math.push({element: name(m), scroll_width: m.scrollWidth, client_width: m.clientWidth,
                                 scroll_height: m.scrollHeight, client_height: m.clientHeight,
                                 text: (m.textContent || "").slice(0, 60)});
      }
    }
    var imgs = document.getElementsByTagName("img");
    for (var j = 0; j < imgs.length; j++) {
      if (hidden(imgs[j])) { continue; }
      out.img_total += 1;
      if (imgs[j].complete && imgs[j].naturalWidth > 0 && imgs[j].getBoundingClientRect().width > 0) {
        out.img_rendered += 1;
      }
    }
    var all = document.body ? document.body.getElementsByTagName("*") : [];
    for (var k = 0; k < all.length; k++) {
      var el = all[k];
      if (el.tagName.toLowerCase() === "math" || el.id === "%(id)s") { continue; }
      var cs = getComputedStyle(el);
      var scrolls = /auto|scroll/.test(cs.overflowX) || /auto|scroll/.test(cs.overflow);
      if (scrolls && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
        out.overflowing_elements.push({element: name(el), scroll_width: el.scrollWidth,
                                       client_width: el.clientWidth});
      }
    }
    var node = document.createElement("pre");
    node.id = "%(id)s";
    node.hidden = true;
    node.textContent = JSON.stringify(out);
    document.body.appendChild(node);
  }
  if (document.readyState === "complete") { probe(); } else { window.addEventListener("load", probe); }
})();
</script>""" % {"id": PROBE_ID}
_PROBE_NODE = re.compile(r'<pre\b[^>]*\bid="%s"[^>]*>(.*?)</pre>' % PROBE_ID, re.S)
_PROBE_SCRIPT_NODE = re.compile(r'<script\b[^>]*\bid="%s-script"[^>]*>.*?</script>' % PROBE_ID, re.S | re.I)


def inject_probe(page: str) -> str:
    """The page with :data:`PROBE_SCRIPT` inserted before its last ``</body>`` (appended when it has none)."""
    at = page.lower().rfind("</body>")
    return page + PROBE_SCRIPT if at < 0 else page[:at] + PROBE_SCRIPT + page[at:]


def read_probe(dom: str) -> dict | None:
    """The findings the probe wrote into the dumped DOM, or None when there are none."""
    m = _PROBE_NODE.search(dom)
    if not m:
        return None
    try:
        return json.loads(html_lib.unescape(m.group(1)))
    except ValueError:
        return None


class ChromiumError(RuntimeError):
    """Chromium is missing, timed out or exited with an error."""


def find_chromium() -> str | None:
    """Path of a Chromium executable (``/usr/bin/chromium`` or one on PATH), or None."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run_chromium(chromium: str, args: list[str], url: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="flatminima-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False,
                                  env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            raise ChromiumError(f"chromium did not finish within {TIMEOUT_S} s") from None
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise ChromiumError(f"chromium exited with {proc.returncode}: {' | '.join(tail)}")
    return proc


def check_dom(dom: str, *, require_probe: bool = False, expect_figures: bool = True) -> dict:
    """Counts from the rendered DOM: ``<math>`` elements, embedded PNG figures, external references, and
    the layout findings of the probe when the DOM carries them.

    Parameters
    ----------
    dom : str
        The serialized DOM (Chromium ``--dump-dom``, of the page or of its probed copy) or the HTML source.
    require_probe : bool, optional
        Count a missing probe node as a problem (the DOM of a probed copy must carry one).
    expect_figures : bool, optional
        Count a page without PNG figures as a problem (True for results reports; the derivation report has
        no figures).

    Returns
    -------
    dict
        ``math_elements``, ``figures`` (``<img>`` with a ``data:image/png;base64`` source that decodes to
        a PNG), ``bad_figures`` (other ``<img>``), ``external_refs`` (``src``/``href`` to http(s) or ``//``),
        ``scripts`` (not counting the probe), the layout measures ``layout_probe`` (whether it ran),
        ``page_overflow_px``, ``scrolling_math`` (number of ``<math>`` elements whose content is wider than
        their box, or taller where their overflow is auto/scroll: they would show a scrollbar), ``scrolling_math_elements``,
        ``overflowing_elements`` (elements with ``overflow`` auto/scroll and wider content),
        ``math_rendered`` and ``figures_rendered`` (laid out with a non-zero size; None without the
        probe), and ``problems`` (list of text).
    """
    layout = read_probe(dom)
    dom = _PROBE_SCRIPT_NODE.sub("", _PROBE_NODE.sub("", dom))
    math = len(re.findall(r"<math[\s>]", dom))
    figures = bad = 0
    for src in re.findall(r"<img\b[^>]*?\bsrc=\"([^\"]*)\"", dom):
        prefix = "data:image/png;base64,"
        ok = False
        if src.startswith(prefix):
            try:
                ok = base64.b64decode(src[len(prefix):len(prefix) + 64], validate=False)[:8] == PNG_MAGIC
            except ValueError:
                ok = False
        figures += ok
        bad += not ok
    external = re.findall(r"\b(?:src|href)=\"((?:https?:)?//[^\"]*)\"", dom)
    scripts = len(re.findall(r"<script\b", dom, re.I))
    problems = []
    if math == 0:
        problems.append("no <math> element in the DOM")
    if figures == 0 and expect_figures:
        problems.append("no <img> with base64 PNG data in the DOM")
    if bad:
        problems.append(f"{bad} <img> without base64 PNG data")
    if external:
        problems.append(f"external references: {', '.join(external[:3])}")
    if scripts:
        problems.append(f"{scripts} <script> elements")
    found = {"math_elements": math, "figures": figures, "bad_figures": bad, "external_refs": len(external),
             "scripts": scripts, "layout_probe": layout is not None, "page_overflow_px": None,
             "scrolling_math": None, "scrolling_math_elements": [], "overflowing_elements": [],
             "math_rendered": None, "figures_rendered": None}
    if layout is None:
        if require_probe:
            problems.append("the layout probe did not report (no probe node in the dumped DOM)")
    else:
        found.update(page_overflow_px=int(layout.get("page_overflow_px", 0)),
                     scrolling_math=len(layout.get("scrolling_math", [])),
                     scrolling_math_elements=layout.get("scrolling_math", []),
                     overflowing_elements=layout.get("overflowing_elements", []),
                     math_rendered=layout.get("math_rendered"), figures_rendered=layout.get("img_rendered"))
        if found["page_overflow_px"] > 0:
            problems.append(f"the page overflows horizontally by {found['page_overflow_px']} px "
                            f"(scrollWidth {layout.get('page_scroll_width')} > clientWidth "
                            f"{layout.get('page_client_width')})")
        if found["scrolling_math"]:
            first = found["scrolling_math_elements"][0]
            problems.append(f"{found['scrolling_math']} <math> elements wider or taller than their box (they "
                            f"would scroll), e.g. {first.get('scroll_width')} > {first.get('client_width')} px: "
                            f"{first.get('text', '')!r}")
        if found["overflowing_elements"]:
            first = found["overflowing_elements"][0]
            problems.append(f"{len(found['overflowing_elements'])} elements with a horizontal scrollbar, e.g. "
                            f"{first.get('element')} ({first.get('scroll_width')} > {first.get('client_width')} px)")
        if layout.get("math_rendered", 0) < layout.get("math_total", 0):
            problems.append(f"{layout['math_total'] - layout['math_rendered']} of {layout['math_total']} <math> "
                            f"elements were laid out with zero size")
        if layout.get("img_rendered", 0) < layout.get("img_total", 0):
            problems.append(f"{layout['img_total'] - layout['img_rendered']} of {layout['img_total']} figures "
                            f"did not render")
    found["problems"] = problems
    return found


def _read_png(path: Path) -> np.ndarray:
    """Pixels as floats in [0, 1], shape (h, w, channels): PIL when installed, else matplotlib."""
    try:
        from PIL import Image
    except ImportError:
        import matplotlib.image as mpimg

        return np.asarray(mpimg.imread(path), dtype=float)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=float) / 255.0


def check_screenshot(path) -> dict:
    """Is a screenshot blank? Fraction of pixels that differ from the most common colour, and grey-level std.

    Parameters
    ----------
    path : str or Path
        A PNG file.

    Returns
    -------
    dict
        ``width``, ``height``, ``ink_fraction``, ``pixel_std`` and ``problems``.
    """
    path = Path(path)
    if not path.is_file() or path.read_bytes()[:8] != PNG_MAGIC:
        return {"width": 0, "height": 0, "ink_fraction": 0.0, "pixel_std": 0.0,
                "problems": [f"{path} is not a PNG file"]}
    pixels = _read_png(path)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    rgb = pixels[..., :3] if pixels.shape[-1] >= 3 else np.repeat(pixels[..., :1], 3, axis=-1)
    flat = np.round(rgb.reshape(-1, 3) * 255).astype(np.int64)
    keys = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]        # one integer per colour
    _, counts = np.unique(keys, return_counts=True)
    ink = 1.0 - counts.max() / keys.size
    std = float(rgb.mean(axis=-1).std())
    problems = []
    if ink < MIN_INK_FRACTION or std < MIN_PIXEL_STD:
        problems.append(f"screenshot looks blank (ink fraction {ink:.4f}, grey std {std:.4f})")
    return {"width": int(pixels.shape[1]), "height": int(pixels.shape[0]), "ink_fraction": round(float(ink), 6),
            "pixel_std": round(std, 6), "problems": problems}


def check_in_browser(html_path, screenshot_path, *, chromium: str | None = None, expect_figures: bool = True) -> dict:
    """Render ``html_path`` in headless Chromium, save a screenshot and check the page.

    Parameters
    ----------
    html_path : str or Path
        The report (e.g. ``OUT/report.html``).
    screenshot_path : str or Path
        Where the PNG screenshot (1200 × 2000 px window) is written.
    chromium : str, optional
        The browser executable; found with :func:`find_chromium` when absent.
    expect_figures : bool, optional
        Whether the page must carry PNG figures (False for the derivation report).

    Returns
    -------
    dict
        ``ok`` (no problems), ``chromium``, ``html``, ``screenshot``, the counts and layout measures of
        :func:`check_dom` (``page_overflow_px``, ``scrolling_math``, ``overflowing_elements``,
        ``math_rendered``, ``figures_rendered``; from a probed copy of the page, see the module docstring),
        the measures of :func:`check_screenshot`, and ``problems``.

    Raises
    ------
    FileNotFoundError
        When ``html_path`` does not exist.
    ChromiumError
        When no Chromium is found, or it fails or times out.
    """
    html_path, screenshot_path = Path(html_path).resolve(), Path(screenshot_path).resolve()
    if not html_path.is_file():
        raise FileNotFoundError(f"no such HTML file: {html_path}")
    chromium = chromium or find_chromium()
    if chromium is None:
        raise ChromiumError("chromium not found (looked for /usr/bin/chromium and chromium on PATH)")
    screenshot_path.parent.mkdir(parents=True, exist_ok=True)
    url = html_path.as_uri()
    width, height = WINDOW
    _run_chromium(chromium, [f"--screenshot={screenshot_path}", f"--window-size={width},{height}"], url)
    with tempfile.TemporaryDirectory(prefix="flatminima-probe-") as tmp:     # the probed copy
        probed = Path(tmp) / html_path.name
        probed.write_text(inject_probe(html_path.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")
        dom = _run_chromium(chromium, ["--dump-dom", f"--window-size={width},{height}",
                                       f"--virtual-time-budget={VIRTUAL_TIME_MS}"],
                            probed.as_uri()).stdout.decode("utf-8", errors="replace")
    dom_report = check_dom(dom, require_probe=True, expect_figures=expect_figures)
    shot = check_screenshot(screenshot_path)
    problems = dom_report.pop("problems") + shot.pop("problems")
    return {"ok": not problems, "chromium": chromium, "html": str(html_path), "screenshot": str(screenshot_path),
            **dom_report, **shot, "problems": problems}


def main(argv=None) -> int:
    """``python -m reports.browser_check FILE.html OUT.png``: JSON on stdout; exit 0 ok, 1 problems, 2 error."""
    parser = argparse.ArgumentParser(prog="python -m reports.browser_check", description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the HTML report to open")
    parser.add_argument("screenshot", type=Path, help="where to write the PNG screenshot")
    parser.add_argument("--no-figures", action="store_true",
                        help="the page has no figures (the derivation report): do not require any")
    args = parser.parse_args(argv)
    try:
        found = check_in_browser(args.html, args.screenshot, expect_figures=not args.no_figures)
    except (ChromiumError, FileNotFoundError) as exc:
        print(f"browser_check: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(found, indent=1))
    return 0 if found["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
