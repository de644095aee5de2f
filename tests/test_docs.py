"""The documentation shows what the code does: the API pages' exchanges are the service's own answers.

(The site itself, with its strict checks, is built by scripts/test.sh: ``mkdocs build --strict``.)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "photoservice" / "examples"


def _api_examples():
    spec = importlib.util.spec_from_file_location("api_examples", ROOT / "scripts" / "api_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_pages_show_what_the_service_answers() -> None:
    pytest.importorskip("httpx")
    api_examples = _api_examples()
    answered = api_examples.exchanges()
    assert sorted(answered) == sorted(path.name for path in EXAMPLES.glob("*.http")), (
        "run scripts/api_examples.py to record the examples again"
    )
    for name, text in answered.items():
        shown = (EXAMPLES / name).read_text(encoding="utf-8")
        assert api_examples.normalized(shown) == api_examples.normalized(text), (
            f"docs/photoservice/examples/{name} is not what the service answers now: "
            "run scripts/api_examples.py and review the difference"
        )


def test_every_example_is_on_its_api_page() -> None:
    pages = {page.stem: page.read_text(encoding="utf-8") for page in (ROOT / "docs" / "photoservice").glob("*.md")}
    for example in EXAMPLES.glob("*.http"):
        api = next(name for name in pages if name != "how-it-works" and example.name.startswith(f"{name}."))
        assert f"examples/{example.name}" in pages[api], f"{example.name} is not shown on docs/photoservice/{api}.md"
