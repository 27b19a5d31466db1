"""CITATION.cff, the one place for the course's addresses and citations.

The repository's ``CITATION.cff`` (Citation File Format 1.2.0) says how to cite the course
and, under ``references``, the works it follows. The site build reads from it:

* :func:`site_urls`: ``repository-code`` and ``url``, for mkdocs' ``repo_url`` (the link
  to the source in the header) and ``site_url`` (canonical links and the sitemap);
* :func:`bibtex_entries`: BibTeX for the course and for each reference, which the Citation
  page shows where it says ``<!-- bibtex: course -->`` and ``<!-- bibtex: references -->``.

Nothing here invents a field: an entry has a DOI or a year only when CITATION.cff has one.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

CFF = Path(__file__).resolve().parents[1] / "CITATION.cff"
PLACEHOLDER = re.compile(r"<!--\s*bibtex:\s*(?P<which>course|references)\s*-->")


class CitationError(ValueError):
    """CITATION.cff is missing, unreadable, or lacks a field the site needs."""


def load(path: Path = CFF) -> dict:
    """The parsed CITATION.cff.

    Raises:
        CitationError: the file is missing, is not YAML, or lacks ``title``, ``authors``,
            ``repository-code`` or ``url``.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CitationError(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise CitationError(f"{path} is not a CITATION.cff mapping")
    missing = [k for k in ("title", "authors", "repository-code", "url") if not data.get(k)]
    if missing:
        raise CitationError(f"{path} lacks {', '.join(missing)}: the site needs them")
    return data


def site_urls(data: dict) -> tuple[str, str]:
    """``(repo_url, site_url)``; the site URL always ends with ``/``."""
    url = str(data["url"])
    return str(data["repository-code"]), url if url.endswith("/") else url + "/"


def _names(authors: list[dict]) -> str:
    names = []
    for author in authors:
        if "name" in author:  # an entity: braces keep BibTeX from splitting it
            names.append("{" + author["name"] + "}")
        else:
            names.append(f"{author['family-names']}, {author['given-names']}")
    return " and ".join(names)


def _protect(title: str) -> str:
    """Brace the words whose capitals BibTeX styles must keep (LSTM, PyTorch, Neural)."""
    def keep(index: int, word: str) -> str:
        capitals = re.findall(r"[A-Z]", word)
        if not capitals or (index == 0 and len(capitals) == 1 and word[0].isupper()):
            return word  # a plain first word is capitalised by every style anyway
        return "{" + word + "}"

    return " ".join(keep(i, w) for i, w in enumerate(title.split(" ")))


def _key(entry: dict) -> str:
    """``family[year]_first_three_title_words``, e.g. ``hochreiter1997_long_short_term``."""
    first = entry.get("authors", [{}])[0].get("family-names", "anonymous")
    words = re.findall(r"[a-z0-9]+", entry["title"].lower())[:3]
    return f"{first.lower()}{entry.get('year', '')}_{'_'.join(words)}"


def _bibtex(kind: str, key: str, fields: list[tuple[str, object]]) -> str:
    width = max(len(name) for name, value in fields if value not in (None, ""))
    body = ",\n".join(f"  {name:<{width}} = {{{value}}}" for name, value in fields
                      if value not in (None, ""))
    return f"@{kind}{{{key},\n{body}\n}}"


def entry_to_bibtex(entry: dict, key: str | None = None) -> str:
    """One CFF entry (the course itself or one of its references) as BibTeX.

    ``article`` becomes ``@article``; anything else ``@misc`` (classic BibTeX has no
    ``@software``), with the address in ``url`` and, for software, its repository in
    ``note``.
    """
    key = key or _key(entry)
    title = _protect(entry["title"])
    authors = _names(entry["authors"])
    if entry.get("type") == "article":
        pages = f"{entry['start']}--{entry['end']}" if entry.get("start") else None
        return _bibtex("article", key, [
            ("author", authors), ("title", title), ("journal", entry.get("journal")),
            ("volume", entry.get("volume")), ("number", entry.get("issue")),
            ("pages", pages), ("year", entry.get("year")), ("doi", entry.get("doi"))])
    publisher = (entry.get("publisher") or {}).get("name")
    note = None
    if entry.get("repository-code") and entry.get("repository-code") != entry.get("url"):
        note = f"Source code: \\url{{{entry['repository-code']}}}"
    return _bibtex("misc", key, [
        ("author", authors), ("title", title),
        ("howpublished", entry.get("collection-title") or publisher),
        ("version", entry.get("version")), ("year", entry.get("year")),
        ("doi", entry.get("doi")), ("url", entry.get("url")), ("note", note)])


def bibtex_entries(data: dict) -> dict[str, list[str]]:
    """``{"course": [BibTeX of the course], "references": [one per reference]}``; the
    course's key is ``lstm_pytorch_course``."""
    return {"course": [entry_to_bibtex(data, key="lstm_pytorch_course")],
            "references": [entry_to_bibtex(ref) for ref in data.get("references", [])]}


def fill_placeholders(markdown: str, data: dict) -> str:
    """Replace each ``<!-- bibtex: course|references -->`` with fenced BibTeX blocks."""
    entries = bibtex_entries(data)
    return PLACEHOLDER.sub(
        lambda m: "\n\n".join(f"```bibtex\n{e}\n```" for e in entries[m.group("which")]),
        markdown)
