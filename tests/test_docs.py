"""Every example in the docs runs: Markdown pages and the docstrings of public modules."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import kettle

DOCS = Path(__file__).resolve().parent.parent / "docs"
# ```python blocks run, in order, as one script per page; other fences are prose.
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _pages() -> list[Path]:
    return [DOCS.parent / "README.md", *sorted(DOCS.glob("**/*.md"))]


@pytest.mark.parametrize(
    "page", _pages(), ids=lambda p: p.name if p.parent != DOCS else str(p.relative_to(DOCS))
)
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _BLOCK.findall(page.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(blocks, start=1):
        code = compile(block, f"{page.name} (example {number})", "exec")
        exec(code, namespace)


def _modules() -> list[str]:
    names = ["kettle"]
    for info in pkgutil.walk_packages(kettle.__path__, "kettle."):
        if info.name.startswith(("kettle.__main__", "kettle.fastapi", "kettle.flask")):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0
