"""Open a report in headless Chromium: screenshot it, dump its DOM, check math, figures and that it is not blank.

``python -m reports.browser_check FILE.html OUT.png`` prints the findings as JSON and exits 0 when the
page passes, 1 when it does not, 2 when Chromium is missing or fails. Chromium runs twice (one run for
``--screenshot``, one for ``--dump-dom``), each with a fresh profile and with networking features off;
the report itself needs no network.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["CHROMIUM_FLAGS", "ChromiumError", "check_dom", "check_in_browser", "check_screenshot", "find_chromium"]

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--mute-audio")
WINDOW = (1200, 2000)
TIMEOUT_S = 120
# A page counts as blank when almost every pixel is one colour: fewer than this fraction differ from
# the most common colour, or the grey levels hardly vary.
MIN_INK_FRACTION = 0.005
MIN_PIXEL_STD = 0.01
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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


def check_dom(dom: str) -> dict:
    """Counts from the rendered DOM: ``<math>`` elements, embedded PNG figures, external references.

    Parameters
    ----------
    dom : str
        The serialized DOM (Chromium ``--dump-dom``) or the HTML source.

    Returns
    -------
    dict
        ``math_elements``, ``figures`` (``<img>`` with a ``data:image/png;base64`` source that decodes to
        a PNG), ``bad_figures`` (other ``<img>``), ``external_refs`` (``src``/``href`` to http(s) or ``//``),
        ``scripts`` and ``problems`` (list of text).
    """
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
    if figures == 0:
        problems.append("no <img> with base64 PNG data in the DOM")
    if bad:
        problems.append(f"{bad} <img> without base64 PNG data")
    if external:
        problems.append(f"external references: {', '.join(external[:3])}")
    if scripts:
        problems.append(f"{scripts} <script> elements")
    return {"math_elements": math, "figures": figures, "bad_figures": bad, "external_refs": len(external),
            "scripts": scripts, "problems": problems}


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


def check_in_browser(html_path, screenshot_path, *, chromium: str | None = None) -> dict:
    """Render ``html_path`` in headless Chromium, save a screenshot and check the page.

    Parameters
    ----------
    html_path : str or Path
        The report (e.g. ``OUT/report.html``).
    screenshot_path : str or Path
        Where the PNG screenshot (1200 × 2000 px window) is written.
    chromium : str, optional
        The browser executable; found with :func:`find_chromium` when absent.

    Returns
    -------
    dict
        ``ok`` (no problems), ``chromium``, ``html``, ``screenshot``, the counts of :func:`check_dom` and the
        measures of :func:`check_screenshot`, and ``problems``.

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
    dom = _run_chromium(chromium, ["--dump-dom", f"--window-size={width},{height}"], url).stdout.decode(
        "utf-8", errors="replace")
    dom_report, shot = check_dom(dom), check_screenshot(screenshot_path)
    problems = dom_report.pop("problems") + shot.pop("problems")
    return {"ok": not problems, "chromium": chromium, "html": str(html_path), "screenshot": str(screenshot_path),
            **dom_report, **shot, "problems": problems}


def main(argv=None) -> int:
    """``python -m reports.browser_check FILE.html OUT.png``: JSON on stdout; exit 0 ok, 1 problems, 2 error."""
    parser = argparse.ArgumentParser(prog="python -m reports.browser_check", description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the HTML report to open")
    parser.add_argument("screenshot", type=Path, help="where to write the PNG screenshot")
    args = parser.parse_args(argv)
    try:
        found = check_in_browser(args.html, args.screenshot)
    except (ChromiumError, FileNotFoundError) as exc:
        print(f"browser_check: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(found, indent=1))
    return 0 if found["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
