"""Feed specs: `feeds/*.toml` → validated `FeedSpec`s, or one clear `ConfigError`.

Per-feed configuration only; process-wide settings from the environment are `settings.py`'s."""
from __future__ import annotations

import difflib
import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from .errors import ConfigError
from .models import FeedSpec

LANGUAGES = ("zh", "en")
_FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# key -> (type checked, human description of the type, meaning); the source of the spec
# keys in docs/configuration.md (`arxiv-digest config-reference`).
_KEYS: dict[str, tuple[type | tuple[type, ...], str, str]] = {
    "title": (str, "a string", "the feed's title (required)"),
    "categories": (list, "a list of arXiv category ids", "e.g. [\"cs.CV\", \"cs.RO\"] (required)"),
    "include_cross_lists": (bool, "true or false", "also take papers cross-listed into the categories (default true)"),
    "language": (str, f"one of {', '.join(LANGUAGES)}", "language of analyses and summary (default en)"),
    "max_papers": (int, "an integer >= 0", "papers analysed per day after ranking; 0 = all (default 10)"),
    "keywords": (list, "a list of strings", "papers that mention them rank first"),
    "exclude_keywords": (list, "a list of strings", "papers that mention them are dropped"),
    "model": (str, "a model id string", "the LLM (default claude-haiku-4-5)"),
    "include_replacements": (bool, "true or false", "put new versions of older papers in the day (default false)"),
    "budget_usd": ((int, float), "a number of US dollars >= 0", "daily LLM budget of this feed; 0 = none"),
}
_REQUIRED = ("title", "categories")


@cache
def arxiv_categories() -> dict[str, str]:
    """The arXiv taxonomy: category id → English name."""
    text = resources.files("service").joinpath("data/arxiv_categories.tsv").read_text("utf-8")
    pairs = (line.split("\t", 1) for line in text.splitlines() if line.strip())
    return {cid.strip(): name.strip() for cid, name in pairs}


def _did_you_mean(cat: str, known: dict[str, str]) -> str:
    """", did you mean 'cs.LG'?" for a near miss (case, a typo), else ""."""
    by_case = {k.lower(): k for k in known}
    close = [by_case[cat.lower()]] if cat.lower() in by_case else difflib.get_close_matches(cat, list(known), n=1)
    return f", did you mean {close[0]!r}?" if close else ""


def stray_files(feeds_dir: Path) -> list[Path]:
    """Files in the feeds directory that look like specs but are not read (only *.toml are)."""
    return sorted(p for p in feeds_dir.glob("*") if p.suffix.lower() in (".yaml", ".yml", ".json", ".ini", ".tml"))


def signature(feeds_dir: Path) -> tuple:
    """Changes whenever a spec is added, removed or edited (names, sizes, mtimes)."""
    try:
        return tuple(sorted((p.name, st.st_mtime_ns, st.st_size)
                            for p in feeds_dir.glob("*.toml") if (st := p.stat())))
    except OSError:
        return ()


def _type_name(value: object) -> str:
    return {bool: "a boolean", int: "an integer", str: "a string", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _check_strings(path: Path, key: str, values: list) -> tuple[str, ...]:
    for i, v in enumerate(values):
        if not isinstance(v, str) or not v.strip():
            raise ConfigError(path, key, f"item {i + 1} must be a non-empty string, got {v!r}")
    return tuple(v.strip() for v in values)


def parse_feed_spec(path: Path, data: dict) -> FeedSpec:
    """Validate one parsed TOML document; the error names file, key and problem."""
    name = path.stem
    if not _FEED_NAME.match(name):
        raise ConfigError(path, None, "file name must be lowercase letters, digits, '-' or '_' "
                          "(it becomes the feed's URL)")
    for key in data:
        if key not in _KEYS:
            raise ConfigError(path, key, f"unknown key (known keys: {', '.join(_KEYS)})")
    for key in _REQUIRED:
        if key not in data:
            raise ConfigError(path, key, "missing (required)")
    for key, value in data.items():
        expected, description, _ = _KEYS[key]
        # bool is a subclass of int: a max_papers of `true` is a mistake, not 1.
        numeric = expected is int or expected == (int, float)
        if not isinstance(value, expected) or (numeric and isinstance(value, bool)):
            raise ConfigError(path, key, f"expected {description}, got {_type_name(value)} {value!r}")

    categories = _check_strings(path, "categories", data["categories"])
    if not categories:
        raise ConfigError(path, "categories", "must name at least one arXiv category")
    known = arxiv_categories()
    for cat in categories:
        if cat not in known:
            raise ConfigError(path, "categories", f"unknown arXiv category {cat!r}{_did_you_mean(cat, known)} "
                              "(see https://arxiv.org/category_taxonomy)")
    language = data.get("language", "en")
    if language not in LANGUAGES:
        raise ConfigError(path, "language", f"expected one of {', '.join(LANGUAGES)}, got {language!r}")
    max_papers = data.get("max_papers", 10)
    if max_papers < 0:
        raise ConfigError(path, "max_papers", f"expected an integer >= 0, got {max_papers}")
    budget = data.get("budget_usd", 0)
    if budget < 0:
        raise ConfigError(path, "budget_usd", f"expected a number of US dollars >= 0, got {budget}")
    title = data["title"].strip()
    if not title:
        raise ConfigError(path, "title", "must not be empty")
    model = data.get("model", FeedSpec.model).strip()
    if not model:
        raise ConfigError(path, "model", "must not be empty")
    return FeedSpec(
        name=name,
        path=path,
        title=title,
        categories=categories,
        include_cross_lists=data.get("include_cross_lists", True),
        language=language,
        max_papers=max_papers,
        keywords=_check_strings(path, "keywords", data.get("keywords", [])),
        exclude_keywords=_check_strings(path, "exclude_keywords", data.get("exclude_keywords", [])),
        model=model,
        include_replacements=data.get("include_replacements", False),
        budget_usd=float(budget),
    )


def load_feed_spec(path: Path) -> FeedSpec:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, None, f"not valid TOML: {e}") from e
    except OSError as e:
        raise ConfigError(path, None, f"cannot read: {e.strerror}") from e
    return parse_feed_spec(path, data)


def load_feed_specs(feeds_dir: Path) -> dict[str, FeedSpec]:
    """All specs of a directory by name; the first invalid one stops everything."""
    if not feeds_dir.is_dir():
        raise ConfigError(feeds_dir, None, "feeds directory does not exist (set DIGEST_FEEDS_DIR)")
    specs = {}
    for path in sorted(feeds_dir.glob("*.toml")):
        spec = load_feed_spec(path)
        specs[spec.name] = spec
    if not specs:
        raise ConfigError(feeds_dir, None, "no feed specs (*.toml) found")
    return specs
