"""The web book: builds offline from lectures/, and every page works in Chromium.

The browser test opens every page of the built book in headless Chromium
(Debian's package, driven by Playwright), served from 127.0.0.1, with every
other request blocked and reported. It checks titles, images, rendered math,
console errors and internal links, and saves screenshots in
build/book/screenshots/ (the first screen of each page; whole pages too with
CNNLAB_BOOK_FULL_SHOTS=1). Without Chromium it skips, unless CI is set.
CNNLAB_BOOK_LECTURES=DIR builds the book from another folder of notebooks.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from cnnlab import book, syllabus

ROOT = syllabus.ROOT
OUT = ROOT / "build" / "book"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


# --- fast unit tests -------------------------------------------------------------

def _widget_nb():
    """A notebook as nbclient leaves it after `interact(...)` and a bare slider."""
    nb = nbformat.v4.new_notebook()
    view = lambda mid: nbformat.v4.new_output(  # noqa: E731
        "display_data", data={book.WIDGET_VIEW: {"model_id": mid, "version_major": 2},
                              "text/plain": "interactive(...)"})
    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                       "text/plain": "<Figure>"})
    cell = nbformat.v4.new_code_cell("interact(f, k=(1, 5))", outputs=[view("box")])
    bare = nbformat.v4.new_code_cell("IntSlider()", outputs=[view("slider")])
    nb.cells = [cell, bare]
    nb.metadata["widgets"] = {book.WIDGET_STATE: {"version_major": 2, "state": {
        "box": {"state": {"children": ["IPY_MODEL_slider", "IPY_MODEL_out"]}},
        "slider": {"state": {"value": 3}},
        "out": {"state": {"outputs": [png]}},
    }}}
    return nb


def test_static_widgets_replaces_views_with_captured_outputs():
    nb = _widget_nb()
    assert book.static_widgets(nb) == 2
    assert [o["data"].get("image/png") for o in nb.cells[0].outputs] == ["iVBORw0KGgo="]
    assert "cnnlab-widget-note" in nb.cells[1].outputs[0]["data"]["text/html"]
    assert "widgets" not in nb.metadata  # no widget JavaScript gets injected
    nbformat.validate(nb)


def test_static_widgets_turns_progress_bars_into_text():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("for i in tqdm(range(5)): pass", outputs=[
        nbformat.v4.new_output("display_data", data={book.WIDGET_VIEW: {"model_id": "bar"},
                                                     "text/plain": "0%|  | 0/5"})])]
    nb.metadata["widgets"] = {book.WIDGET_STATE: {"state": {
        "bar": {"model_name": "HBoxModel",
                "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_b", "IPY_MODEL_c"]}},
        "a": {"model_name": "HTMLModel", "state": {"value": "epochs:\u2007100%"}},
        "b": {"model_name": "FloatProgressModel", "state": {"value": 5.0, "max": 5.0}},
        "c": {"model_name": "HTMLModel", "state": {"value": "\u20075/5\u2007[00:00&lt;00:00]"}},
    }}}
    assert book.static_widgets(nb) == 1
    assert nb.cells[0].outputs[0]["text"] == "epochs: 100%|██████████| 5/5 [00:00<00:00]\n"


def test_write_problem_sets_links_released_files(tmp_path):
    (tmp_path / "exercises" / "ps1").mkdir(parents=True)
    (tmp_path / "exercises" / "ps1" / "ps1.ipynb").write_text("{}")
    (tmp_path / "solutions").mkdir(parents=True)
    (tmp_path / "solutions" / "ps1.py").write_text("")
    (tmp_path / "solutions" / "ps2.py").write_text("")
    names = book.write_problem_sets(tmp_path, tmp_path / "src")
    assert names == [ps.id for ps in syllabus.PROBLEM_SETS]
    ps1 = (tmp_path / "src" / "problem_sets" / "ps1.md").read_text()
    assert "released" in ps1 and "{download}`ps1/ps1.ipynb </exercises/ps1/ps1.ipynb>`" in ps1
    assert "[Lecture 2: Convolution](../lectures/02_convolution.ipynb)" in ps1  # prerequisites, linked
    assert (tmp_path / "src" / "exercises" / "ps1" / "ps1.ipynb").exists()
    assert "in preparation" in (tmp_path / "src" / "problem_sets" / "ps2.md").read_text()
    assert "planned" in (tmp_path / "src" / "problem_sets" / "ps5.md").read_text()


def test_planned_lectures_get_a_page(tmp_path):
    """Lectures not written yet get a one-cell page, so links to lectures/0N_*.ipynb are never dead."""
    (tmp_path / "lectures").mkdir()
    for lec in syllabus.LECTURES[:4]:
        (tmp_path / "lectures" / f"{lec.file}.ipynb").write_text("{}")
    assert book.write_planned_lectures(tmp_path, tmp_path / "src") == ["lec5", "lec6", "lec7", "lec8", "lec9"]
    page = nbformat.read(tmp_path / "src" / "lectures" / "05_building_cnns.ipynb", as_version=4)
    nbformat.validate(page)
    text = page.cells[0].source
    assert text.startswith("# Lecture 5 — Building CNNs") and "**Status:** planned" in text
    assert "[Lecture 4: Pooling, invariance and equivariance](04_pooling_and_invariance.ipynb)" in text
    assert not (tmp_path / "src" / "lectures" / "01_images_and_filters.ipynb").exists()

@pytest.mark.slow
@pytest.mark.notebooks
def test_main_fails_on_a_cell_error(tmp_path, capsys):
    lectures = tmp_path / "lectures"
    lectures.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lectures / "broken.ipynb")
    assert book.main(["--out", str(tmp_path / "out"), "--lectures", str(lectures)]) == 1
    err = capsys.readouterr().err
    assert "broken.ipynb" in err and "ZeroDivisionError" in err
    assert not (tmp_path / "out" / "html").exists()


# --- the built book ------------------------------------------------------------------

@pytest.fixture(scope="session")
def built_book(executed_lectures):
    """Build the book once into build/book, from the lectures this session executed (the cache holds them)."""
    lectures = Path(os.environ.get("CNNLAB_BOOK_LECTURES", ROOT / "lectures"))
    if not list(lectures.glob("*.ipynb")):
        pytest.fail(f"no lecture notebooks in {lectures}")
    failed = [name for name, res in executed_lectures.items() if isinstance(res, BaseException)]
    if failed and lectures == ROOT / "lectures":
        pytest.fail(f"lectures failed to execute (see test_lectures): {failed}")
    rc = book.main(["--out", str(OUT), "--lectures", str(lectures), "--strict"])
    assert rc == 0, "python -m cnnlab book failed (see the output above)"
    return OUT / "html"


def _pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html")
                  if not p.relative_to(html).parts[0].startswith("_"))


@pytest.mark.slow
@pytest.mark.notebooks
def test_main_builds_an_offline_book(built_book):
    html = built_book
    folder = Path(os.environ.get("CNNLAB_BOOK_LECTURES", ROOT / "lectures"))
    lectures = sorted(p.stem for p in folder.glob("*.ipynb"))
    planned = [lec.file for lec in syllabus.LECTURES
               if syllabus.lecture_status(lec) == "planned" and lec.file not in lectures]
    assert sorted(p.stem for p in (html / "lectures").glob("*.html")) == sorted(lectures + planned)
    assert sorted(p.stem for p in (html / "problem_sets").glob("*.html")) == \
        sorted(ps.id for ps in syllabus.PROBLEM_SETS)
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    remote = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""",
                        re.I)
    for page in _pages(html):
        text = page.read_text(encoding="utf-8")
        assert not remote.search(text), f"{page.name} loads a remote resource"
        assert "jupyter.widget-view" not in text, f"{page.name} has a live-widget placeholder"
        assert "Traceback (most recent call last)" not in text, f"{page.name} shows a traceback"
        # A figure shown as its repr only: the inline backend never drew it.
        lost = re.search(r"&lt;Figure size \d+x\d+ with \d+ Axes&gt;", text)
        assert not lost, f"{page.name}: a figure was not drawn ({lost and lost.group(0)})"
    for name in lectures:  # executed: every lecture shows at least one figure
        assert "<img" in (html / "lectures" / f"{name}.html").read_text(encoding="utf-8"), name


# --- browser ---------------------------------------------------------------------------

def _chromium() -> str:
    """Path of Debian's chromium, or skip (fail under CI) with the reason."""
    reason = None
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                       else None)
    if exe is None:
        reason = "chromium is not installed (apt-get install --no-install-recommends chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright Python package is not installed"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {reason}")
        pytest.skip(reason)
    return exe


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def book_server(built_book):
    handler = functools.partial(_Quiet, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


_PAGE_FACTS = """async () => {
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(r => { img.onload = img.onerror = r; })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
  }
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea')
       .forEach(e => e.remove());
  const math = [...document.querySelectorAll('.math')];
  return {
    h1: [...document.querySelectorAll('h1')].map(h => h.textContent.trim()).join(' '),
    badImages: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                                   .map(i => i.getAttribute('src')),
    nImages: document.images.length,
    nMath: math.length,
    unrendered: math.filter(e => !e.querySelector('mjx-container')).length,
    nMjx: document.querySelectorAll('mjx-container').length,
    text: clone.textContent,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id)
         .concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
    widgets: document.querySelectorAll('script[type*="jupyter.widget"]').length,
  };
}"""


@pytest.mark.slow
@pytest.mark.browser
def test_book_every_page_in_chromium(built_book, book_server, tmp_path):
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    html, base = built_book, book_server
    shots = OUT / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    problems: list[str] = []
    facts: dict[str, dict] = {}
    current = "(start-up)"

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=exe, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900})

        def route(r):
            if r.request.url.startswith(base) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                problems.append(f"{current}: blocked network request {r.request.url}")
                r.abort()

        ctx.route("**/*", route)
        page = ctx.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(
            f"{current}: console error: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"{current}: page error: {e}"))
        page.on("requestfailed", lambda r: r.url.startswith(base) and problems.append(
            f"{current}: failed to load {r.url}"))
        page.on("response", lambda r: r.status >= 400 and problems.append(
            f"{current}: HTTP {r.status} for {r.url}"))

        for path in _pages(html):
            current = path.relative_to(html).as_posix()
            page.goto(base + current, wait_until="load")
            f = page.evaluate(_PAGE_FACTS)
            facts[current] = f
            title = page.title().strip()
            if not title or not f["h1"].strip():
                problems.append(f"{current}: missing title ({title!r}) or heading")
            for src in f["badImages"]:
                problems.append(f"{current}: image did not load: {src}")
            if f["unrendered"]:
                problems.append(f"{current}: {f['unrendered']} of {f['nMath']} math "
                                "elements not rendered by MathJax")
            for raw in ("$$", "\\(", "\\["):
                if raw in f["text"]:
                    i = f["text"].index(raw)
                    problems.append(f"{current}: raw TeX {raw!r} in the text: "
                                    f"{f['text'][max(0, i - 40):i + 40]!r}")
            if f["widgets"]:
                problems.append(f"{current}: live-widget placeholder left in the page")
            name = current.replace("/", "__").removesuffix(".html")
            page.screenshot(path=str(shots / f"{name}.png"))
            if os.environ.get("CNNLAB_BOOK_FULL_SHOTS"):  # note: 20 s of PNG encoding for the lectures alone
                page.screenshot(path=str(shots / f"{name}.full.png"), full_page=True)
        ctx.close()

    # Internal links: the target file exists and, with a fragment, has that id.
    for current, f in facts.items():
        for href in f["links"]:
            if not href.startswith(base):
                continue
            url = urllib.parse.urlsplit(href)
            rel = urllib.parse.unquote(url.path[1:]) or "index.html"
            if rel.endswith("/"):
                rel += "index.html"
            if not (html / rel).is_file():
                problems.append(f"{current}: broken link {href}")
            elif url.fragment and rel in facts and \
                    urllib.parse.unquote(url.fragment) not in facts[rel]["ids"]:
                problems.append(f"{current}: link to a missing anchor {href}")

    planned = {f"lectures/{lec.file}.html" for lec in syllabus.LECTURES if syllabus.lecture_status(lec) == "planned"}
    lectures = [k for k in facts if k.startswith("lectures/") and k not in planned]
    assert lectures, "no lecture pages in the book"
    for k in lectures:  # lectures have figures and rendered math
        if facts[k]["nImages"] == 0:
            problems.append(f"{k}: no figures")
    if not any(facts[k]["nMjx"] for k in lectures):
        problems.append("no lecture page has rendered math")
    assert not problems, "\n".join(sorted(set(problems)))
