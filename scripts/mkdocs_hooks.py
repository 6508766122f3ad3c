"""mkdocs hooks: the site serves MathJax itself, so its equations render without the internet.

MathJax 3.2.2 comes from PyPI (`django-static-mathjax`, MathJax's own es5 build, no dependencies;
the `docs` extra): after each build, the combined TeX component and the pieces it loads on demand
(CHTML fonts, TeX extensions, menu, accessibility) are copied to `site/javascripts/mathjax/`, about
3 MB, where mkdocs.yml's `extra_javascript` points.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PIECES = ("tex-mml-chtml.js", "output/chtml", "output/chtml.js", "input/tex", "ui", "a11y")


def mathjax_build() -> Path:
    try:
        import mathjax
    except ImportError:
        raise SystemExit(
            "docs: MathJax is served from the site: pip install 'biogrn[docs]' (django-static-mathjax)"
        ) from None
    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def on_post_build(config, **kwargs) -> None:
    source = mathjax_build()
    target = Path(config["site_dir"]) / "javascripts" / "mathjax"
    for piece in PIECES:
        origin, destination = source / piece, target / piece
        destination.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, destination, dirs_exist_ok=True)
        else:
            shutil.copy2(origin, destination)
