"""Sphinx configuration of the sk_rectifier documentation.

Build with ``bash scripts/docs.sh``: offline (no intersphinx downloads),
warnings are errors, and the example gallery runs (at its quick sizes).
"""

import re
import sys
from pathlib import Path

import sk_rectifier

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

project = "sk_rectifier"
author = "sk_rectifier developers"
copyright = "2026, sk_rectifier developers"
release = version = sk_rectifier.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_design",
    "sphinx_copybutton",
    "myst_parser",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# .md: the reports of `python -m sk_rectifier reproduce` under reproduce/
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 2
root_doc = "index"

# API reference: one page per public name, generated from the docstrings
autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # numpydoc shows the types from the docstrings
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Offline: no intersphinx inventories are fetched at build time.
intersphinx_mapping = {}

# The gallery: examples/plot_*.py, run at their quick sizes (the default of
# each script), with the corpora of $SK_RECTIFIER_DATA.
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 0,
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("sk_rectifier",),
    "reference_url": {"sk_rectifier": None},
}

html_theme = "pydata_sphinx_theme"
html_title = f"sk_rectifier {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
html_context = {"default_mode": "light"}

# Methods inherited from scikit-learn keep their docstrings, whose :ref: roles
# point into scikit-learn's own site; without intersphinx (offline builds)
# they are shown as plain text. Our own docstrings are left strict.
_REF = re.compile(r":ref:`([^`<]*?)\s*(?:<[^`>]*>)?`")


def _plain_foreign_refs(app, what, name, obj, options, lines):
    if getattr(obj, "__module__", "").startswith("sk_rectifier"):
        return
    for i, line in enumerate(lines):
        lines[i] = _REF.sub(lambda m: m.group(1) or "", line)


def setup(app):
    app.connect("autodoc-process-docstring", _plain_foreign_refs)
