"""Codebooks: categories of codes with colours and keys, loaded from JSON or TOML data files."""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import CodebookError

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Keys the player and timeline use (shuttle, in/out, still, marker): codes cannot take them.
RESERVED_KEYS = frozenset("jklios m".replace(" ", "") + " ")
BUILTIN = ("vig", "piccolo", "pup")


@dataclass(frozen=True)
class Code:
    id: str
    label: str
    key: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    colour: str
    codes: tuple[Code, ...]
    prompt: str = ""  # a reflective question for the parent, shown in shared review


@dataclass(frozen=True)
class Codebook:
    id: str
    name: str
    categories: tuple[Category, ...]
    version: int = 1
    _by_id: dict[str, tuple[Category, Code]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for category in self.categories:
            for code in category.codes:
                self._by_id[code.id] = (category, code)

    def code(self, code_id: str) -> Code:
        return self._lookup(code_id)[1]

    def category_of(self, code_id: str) -> Category:
        return self._lookup(code_id)[0]

    def _lookup(self, code_id: str) -> tuple[Category, Code]:
        try:
            return self._by_id[code_id]
        except KeyError:
            raise CodebookError(f"code {code_id!r} is not in the codebook {self.name!r}") from None

    def codes(self) -> list[Code]:
        return [code for category in self.categories for code in category.codes]

    def check_codes(self, code_ids: tuple[str, ...] | list[str]) -> None:
        unknown = [c for c in code_ids if c not in self._by_id]
        if unknown:
            raise CodebookError(
                f"unknown codes {', '.join(unknown)} (not in the codebook {self.name!r})"
            )

    def find(self, text: str) -> Code | None:
        """A code by id or by label, ignoring case (for imports from other tools)."""
        wanted = text.strip().lower()
        for code in self.codes():
            if wanted in (code.id.lower(), code.label.lower()):
                return code
        return None

    def by_key(self, key: str) -> Code | None:
        for code in self.codes():
            if code.key is not None and code.key.lower() == key.lower():
                return code
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "categories": [
                {
                    "id": c.id,
                    "label": c.label,
                    "colour": c.colour,
                    "prompt": c.prompt,
                    "codes": [
                        {
                            k: v
                            for k, v in (
                                ("id", code.id),
                                ("label", code.label),
                                ("key", code.key),
                                ("description", code.description),
                            )
                            if v
                        }
                        for code in c.codes
                    ],
                }
                for c in self.categories
            ],
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "the codebook") -> Codebook:
        """Build and validate; every problem is listed in one CodebookError."""
        problems: list[str] = []
        if not isinstance(data, dict):
            raise CodebookError(f"{source} is not a codebook (expected a table at the top)")
        categories = [
            _category(c, problems) for c in _list(data.get("categories"), "categories", problems)
        ]
        _check_unique(categories, problems)
        for key in ("id", "name"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                problems.append(f"the codebook needs a {key!r}")
        if isinstance(data.get("id"), str) and not _ID.match(data["id"]):
            problems.append(f"codebook id {data['id']!r} must be lowercase letters, digits, . _ -")
        if problems:
            raise CodebookError(f"{source} is invalid: " + "; ".join(problems))
        return cls(data["id"], data["name"], tuple(categories), int(data.get("version", 1)))


def _list(value: Any, what: str, problems: list[str]) -> list[Any]:
    if not isinstance(value, list) or not value:
        problems.append(f"{what} must be a non-empty list")
        return []
    return value


def _category(data: Any, problems: list[str]) -> Category:
    if not isinstance(data, dict):
        problems.append("a category is not a table")
        return Category("?", "?", "#000000", ())
    cid, label, colour = data.get("id", ""), data.get("label", ""), data.get("colour", "")
    if not isinstance(cid, str) or not _ID.match(cid):
        problems.append(f"category id {cid!r} must be lowercase letters, digits, . _ -")
    if not isinstance(label, str) or not label.strip():
        problems.append(f"category {cid!r} needs a label")
    if not isinstance(colour, str) or not _COLOUR.match(colour):
        problems.append(f"category {cid!r} has a bad colour {colour!r} (use #RRGGBB)")
    codes = tuple(
        _code(c, cid, problems) for c in _list(data.get("codes"), f"codes of {cid!r}", problems)
    )
    return Category(str(cid), str(label), str(colour), codes, str(data.get("prompt", "")))


def _code(data: Any, category: str, problems: list[str]) -> Code:
    if not isinstance(data, dict):
        problems.append(f"a code in {category!r} is not a table")
        return Code("?", "?")
    cid, label, key = data.get("id", ""), data.get("label", ""), data.get("key")
    if not isinstance(cid, str) or not _ID.match(cid):
        problems.append(f"code id {cid!r} must be lowercase letters, digits, . _ -")
    if not isinstance(label, str) or not label.strip():
        problems.append(f"code {cid!r} needs a label")
    if key is not None:
        if not isinstance(key, str) or len(key) != 1 or not key.isalnum():
            problems.append(f"code {cid!r} has a bad key {key!r} (one letter or digit)")
        elif key.lower() in RESERVED_KEYS:
            problems.append(f"code {cid!r} cannot use key {key!r}: the player uses it")
    return Code(str(cid), str(label), key, str(data.get("description", "")))


def _check_unique(categories: list[Category], problems: list[str]) -> None:
    seen_categories: set[str] = set()
    seen_codes: set[str] = set()
    seen_keys: dict[str, str] = {}
    for category in categories:
        if category.id in seen_categories:
            problems.append(f"duplicate category id {category.id!r}")
        seen_categories.add(category.id)
        for code in category.codes:
            if code.id in seen_codes:
                problems.append(f"duplicate code id {code.id!r}")
            seen_codes.add(code.id)
            if code.key:
                if code.key.lower() in seen_keys:
                    problems.append(
                        f"duplicate key {code.key!r} ({seen_keys[code.key.lower()]!r} and "
                        f"{code.id!r})"
                    )
                seen_keys[code.key.lower()] = code.id


def parse_codebook(text: str, name: str) -> Codebook:
    """Parse a codebook from JSON or TOML text (chosen by the file name)."""
    try:
        data = tomllib.loads(text) if name.lower().endswith(".toml") else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CodebookError(
            f"{name} is not valid {'TOML' if name.endswith('.toml') else 'JSON'}: {exc}"
        ) from None
    return Codebook.from_dict(data, name)


def load_codebook(path: str | Path) -> Codebook:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CodebookError(f"cannot read the codebook {path}: {exc.strerror}") from None
    return parse_codebook(text, path.name)


def builtin_codebook(codebook_id: str) -> Codebook:
    """One of the codebooks shipped with videofeedback: 'vig' (the default), 'piccolo', 'pup'."""
    if codebook_id not in BUILTIN:
        raise CodebookError(
            f"no built-in codebook {codebook_id!r}; there are: {', '.join(BUILTIN)}"
        )
    text = (
        resources.files("annotations.codebooks")
        .joinpath(f"{codebook_id}.json")
        .read_text(encoding="utf-8")
    )
    return parse_codebook(text, f"{codebook_id}.json")


def default_codebook() -> Codebook:
    return builtin_codebook("vig")


# --- codebooks made from another tool's scheme (ELAN vocabularies, a BORIS ethogram) -------

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def slug(text: str) -> str:
    """An id made of lowercase letters, digits, '.', '_' and '-' (never empty); accents go
    ('Étude' -> 'etude'), other letters become '-'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    lowered = re.sub(r"[^a-z0-9._-]+", "-", plain.strip().lower()).strip("-._")
    return lowered or "x"


def codebook_from_scheme(name: str, scheme: dict[str, list[str]]) -> Codebook:
    """A codebook with one category per scheme entry (tier, vocabulary, behavioural category)
    and one code per label: code ids are '<category>.<label>', both slugged and unique."""
    categories: list[Category] = []
    used_categories: set[str] = set()
    used_codes: set[str] = set()
    for number, (category, labels) in enumerate(scheme.items()):
        values = [v for v in labels if v.strip()]
        if not values:
            continue
        category_id = _unique(slug(category), used_categories)
        codes = tuple(
            Code(_unique(f"{category_id}.{slug(value)}", used_codes), value.strip())
            for value in values
        )
        colour = _PALETTE[number % len(_PALETTE)]
        categories.append(Category(category_id, category.strip() or category_id, colour, codes))
    if not categories:
        raise CodebookError(f"the file has no labels to make the codebook {name!r} from")
    book = Codebook(slug(name), name.strip() or slug(name), tuple(categories))
    return Codebook.from_dict(book.to_dict(), f"the codebook {name!r}")


def _unique(candidate: str, used: set[str]) -> str:
    result, number = candidate, 2
    while result in used:
        result, number = f"{candidate}-{number}", number + 1
    used.add(result)
    return result


def merged_codebook(old: Codebook, new: Codebook) -> Codebook:
    """``old`` with the categories and codes of ``new`` it lacks added (by id): importing a
    second file into a codebook made from a first never drops a code in use."""
    categories = {c.id: c for c in old.categories}
    for category in new.categories:
        if category.id not in categories:
            categories[category.id] = category
            continue
        kept = categories[category.id]
        known = {c.id for c in kept.codes}
        extra = tuple(c for c in category.codes if c.id not in known)
        categories[category.id] = Category(kept.id, kept.label, kept.colour, kept.codes + extra)
    book = Codebook(old.id, old.name, tuple(categories.values()), old.version)
    return Codebook.from_dict(book.to_dict(), f"the codebook {old.name!r}")
