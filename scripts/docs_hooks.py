"""MkDocs hooks and a griffe extension for the documentation site (mkdocs.yml names this file twice).

- :class:`RstRoles` (a griffe extension, run by mkdocstrings on every object it reads): the docstrings are
  written for Sphinx-style readers (``:class:`~.app.Service```); in the Markdown reference such a role
  becomes a code span with the name as the reader would type it.
- :func:`on_pre_build` (an MkDocs hook): every public name on the reference pages has a docstring. The
  reference pages say what is rendered (their ``::: identifier`` lines); a module's public names are its
  ``__all__`` (else its names without a leading underscore); a class's are its own public methods,
  properties and nested classes. Each one without a docstring is a warning, which ``mkdocs build --strict``
  turns into a failed build. Attributes of classes are exempt (dataclass fields are described by their
  class), properties are not, and neither are module constants (``#:`` comments count, as Sphinx reads them).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
PACKAGES = ("fastmime", "imgpipe", "photoservice")
log = logging.getLogger("mkdocs.plugins.public_api")

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)([^`<]*?)(?:\s*<([^`>]+)>)?`")


def _role_as_code(match: re.Match[str]) -> str:
    shorten, text, target = match.group(1), match.group(2).strip(), match.group(3)
    name = (target or text).lstrip(".~")
    if target:  # :class:`title <target>`
        return f"`{text}`"
    return f"`{name.rsplit('.', 1)[-1] if shorten else name}`"


class RstRoles(griffe.Extension):
    """Turn Sphinx roles in docstrings into Markdown code spans."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ":`" in obj.docstring.value:
            obj.docstring.value = _ROLE.sub(_role_as_code, obj.docstring.value)


def rendered_identifiers() -> list[str]:
    """The identifiers the reference pages render (their ``::: identifier`` lines)."""
    found = []
    for page in sorted(REFERENCE.glob("*.md")):
        found += re.findall(r"^:::\s+([\w.]+)", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return found


def undocumented(identifiers: list[str]) -> list[str]:
    """Each public name under ``identifiers`` that has no docstring, as ``path (kind)``."""
    extensions = griffe.load_extensions("griffe_sphinx", RstRoles)
    loader = griffe.GriffeLoader(extensions=extensions, search_paths=[str(ROOT)])
    for package in PACKAGES:
        loader.load(package)
    loader.resolve_aliases(implicit=False, external=False)
    missing: list[str] = []
    seen: set[str] = set()

    def check(obj: griffe.Object | griffe.Alias, shown_as: str, in_class: bool) -> None:
        target = obj.final_target if obj.is_alias else obj
        if target.path in seen:
            return
        seen.add(target.path)
        if target.is_attribute and in_class and "property" not in target.labels:
            return
        if not (target.docstring and target.docstring.value.strip()):
            missing.append(f"{shown_as} ({target.kind.value})")
        if target.is_class:
            for name, member in target.members.items():
                if not name.startswith("_") and not member.is_alias:
                    check(member, f"{shown_as}.{name}", in_class=True)

    for identifier in identifiers:
        obj = loader.modules_collection.get_member(identifier)
        if not obj.is_module:
            check(obj, identifier, in_class=False)
            continue
        if not (obj.docstring and obj.docstring.value.strip()):
            missing.append(f"{identifier} (module)")
        names = (
            [str(name) if isinstance(name, str) else name.name for name in obj.exports]
            if obj.exports is not None
            else [name for name in obj.members if not name.startswith("_")]
        )
        for name in names:
            member = obj.members[name]
            if member.is_alias and member.target_path.split(".", 1)[0] not in PACKAGES:
                continue  # re-exported from another library: documented there
            if member.is_module:
                continue  # a submodule: rendered (and checked) on its own page, or private
            check(member, f"{identifier}.{name}", in_class=False)
    return missing


def on_pre_build(config: Any, **kwargs: Any) -> None:
    """MkDocs hook: warn (an error under --strict) for each public name without a docstring."""
    identifiers = rendered_identifiers()
    if not identifiers:
        log.warning("the reference pages render nothing (no '::: identifier' line in docs/reference)")
    for name in undocumented(identifiers):
        log.warning("public name without a docstring: %s", name)
