"""Sphinx configuration of the cnnlab web book.

``python -m cnnlab book`` copies this folder into build/book/src, adds the
executed lectures and the problem-set pages, then runs Sphinx. Nothing here
may load from the network: MathJax is bundled, widget JavaScript is off.
"""
project = "cnnlab"
author = "cnnlab contributors"
copyright = "cnnlab contributors"
html_title = "Convolutional neural networks, hands on"

extensions = [
    "myst_nb",                 # .ipynb and .md pages (MyST)
    "sphinx-mathjax-offline",  # copies MathJax 3 into _static/mathjax
]
# note: set here too, in case the extension's own assignment is overridden.
mathjax_path = "mathjax/tex-chtml.js"

exclude_patterns = ["_build", "exercises/**", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# Jupyter renders $$...$$ inside a paragraph as display math; so must the book.
myst_dmath_double_inline = True

# Lectures arrive executed (cnnlab.book runs them); never execute here.
nb_execution_mode = "off"
nb_ipywidgets_js = {}          # no require.js / html-manager from a CDN
nb_merge_streams = True

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["cnnlab.css"]
html_last_updated_fmt = None
# note: without a default mode the theme logs a console error on a first visit.
html_context = {"default_mode": "light"}
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
}
