"""The documentation site: every page is in the navigation, every layer has its API reference."""

from pathlib import Path

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
