"""The built documentation site (``bash scripts/docs.sh`` builds it, then runs
this file with ``SK_RECTIFIER_DOCS_BUILT`` set to the HTML folder): the home
page, an API page per public name, the gallery's thumbnails and figures on
disk, and no dangling image or page link anywhere in the built HTML.

Skipped when the variable is not set (the plain test suite does not build the
site); when it is set, a missing site fails."""

import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from test_docstrings import PUBLIC

BUILT = os.environ.get("SK_RECTIFIER_DOCS_BUILT")
pytestmark = pytest.mark.skipif(
    not BUILT, reason="the docs site is checked by scripts/docs.sh after building"
)
EXAMPLES = sorted(
    p.stem for p in (Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py")
)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.pages = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag == "a" and attrs.get("href"):
            self.pages.append(attrs["href"])


def _links(page):
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _local(page, url):
    """The file a relative link of ``page`` points to (None if external)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return (page.parent / unquote(parts.path)).resolve()


@pytest.fixture(scope="module")
def site():
    root = Path(BUILT)
    assert (root / "index.html").is_file(), f"no built site in {root}"
    return root


def test_home_page_links_to_the_guide_api_and_gallery(site):
    hrefs = {_local(site / "index.html", h) for h in _links(site / "index.html").pages}
    for target in ("user_guide/index.html", "api.html", "auto_examples/index.html"):
        assert (site / target).resolve() in hrefs, target


def test_every_public_name_has_an_api_page(site):
    for name, _ in PUBLIC:  # the names tests/test_docstrings.py checks
        page = site / "generated" / f"{name}.html"
        assert page.is_file(), f"no API page for {name}"


def test_classifier_api_page_documents_parameters_attributes_and_examples(site):
    page = site / "generated" / "sk_rectifier.RectifierMLPClassifier.html"
    text = page.read_text(encoding="utf-8")
    for needle in (
        "Parameters",
        "Attributes",
        "Examples",
        "activation_l1",
        "activation_sparsity_",
        "hidden_activations",
        "partial_fit",
    ):
        assert needle in text, needle


def test_gallery_thumbnails_and_figures_exist(site):
    gallery = site / "auto_examples" / "index.html"
    thumbs = [_local(gallery, s) for s in _links(gallery).images]
    for stem in EXAMPLES:
        assert any(t is not None and stem in t.name for t in thumbs), stem
        page = site / "auto_examples" / f"{stem}.html"
        figures = [
            _local(page, s) for s in _links(page).images if f"sphx_glr_{stem}_0" in s
        ]
        assert figures, f"{stem} has no figure"
    for thumb in thumbs:
        assert thumb is not None and thumb.is_file(), thumb


def test_no_dangling_image_or_page_link(site):
    missing = []
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30
    for page in pages:
        links = _links(page)
        for url in links.images + links.pages:
            target = _local(page, url)
            if target is not None and not target.exists():
                missing.append(f"{page.relative_to(site)} -> {url}")
    assert not missing, missing[:20]
