"""The documentation site: every page is in the navigation, every layer has its API reference."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
LAYERS_WITH_API = sorted(p.parent.name for p in (ROOT / "biogrn").glob("*/__init__.py") if p.parent.name != "testing")


def nav_pages(entries) -> list[str]:
    pages = []
    for entry in entries:
        for value in entry.values():
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_page_is_in_the_site_navigation_and_every_layer_has_an_api_page():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)  # !!python tags stay text
    pages = set(nav_pages(config["nav"]))
    on_disk = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert on_disk == pages
    for layer in LAYERS_WITH_API:
        assert f"::: biogrn.{layer}" in (ROOT / "docs" / "api" / f"{layer}.md").read_text()


def test_no_page_holds_a_control_character():
    """'\\beta' once written through a non-raw Python string left a backspace in equations.md, and
    MathJax showed 'Math input error' there (found by scripts/check_site.py)."""
    for page in [*(ROOT / "docs").rglob("*.md"), ROOT / "README.md"]:
        text = page.read_text()
        bad = [c for c in text if ord(c) < 32 and c not in "\n\t"]
        assert not bad, f"{page}: control character {bad[0]!r}"


def test_the_site_renders_every_equation_offline_in_a_real_browser():
    """scripts/check_site.py: the site built, served on 127.0.0.1, read by headless Chromium with
    every other host unreachable; skipped where no Chromium is installed (apt install chromium)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_site", ROOT / "scripts" / "check_site.py")
    check_site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_site)
    if check_site.browser() is None:
        pytest.skip("no Chromium here (Debian: apt install chromium)")
    assert check_site.main([]) == 0
