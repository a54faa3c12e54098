"""Feed specs: `feeds/*.toml` → validated `FeedSpec`s, or one clear `ConfigError`.

Per-feed configuration only; process-wide settings from the environment are `settings.py`'s."""
from __future__ import annotations

import difflib
from dataclasses import replace
import re
import tomllib
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path

from .budget import price_for
from .errors import ConfigError
from .models import EmbeddingsEndpoint, FeedSpec, Price, ZoteroLibrary
from .prompts import ANALYSIS_LENGTHS

LANGUAGES = ("zh", "en")
#: The SDKs we speak through (`service/providers/`).
PROVIDERS = ("anthropic", "openai")
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
    "authors": (list, "a list of names", "authors to follow: their papers are always kept and ranked first "
                                       "(initials, accents and name order don't matter)"),
    "model": (str, "a model id string", "the LLM (default claude-haiku-4-5)"),
    "include_replacements": (bool, "true or false", "put new versions of older papers in the day (default false)"),
    "budget_usd": ((int, float), "a number of US dollars >= 0", "daily LLM budget of this feed; 0 = none"),
    "provider": (str, f"one of {', '.join(PROVIDERS)}", "who serves the model: anthropic (default) or openai "
                                                      "(any OpenAI-compatible endpoint)"),
    "base_url": (str, "an http(s) URL", "the provider's endpoint for this feed (a local model, DeepSeek, "
                                        "OpenRouter); default: the provider's environment variable"),
    "api_key_env": (str, "the name of an environment variable ending in _API_KEY",
                    "where this feed's key is (only with base_url); unset with base_url = no key (a local server)"),
    "library": ((str, dict), "a file path, relative to the feeds directory or absolute, or a table "
                             "{ zotero_user = <id> } or { zotero_group = <id> } with an optional key_env = \"…_API_KEY\"",
                "your library, exported from Zotero (BibTeX, CSL-JSON or RIS), a copy of zotero.sqlite, or your "
                "zotero.org library through the Zotero Web API (read at most daily and kept on disk; the key is "
                "read from the environment variable key_env names, never written in the spec): papers like its "
                "items rank higher, and say which items they are like; a library that cannot be read is reported "
                "and the feed is ranked with the last good copy, or without it"),
    "embeddings": (dict, "a table { model = \"…\" } with optional base_url = \"http(s)://…\" and "
                         "api_key_env = \"…_API_KEY\"",
                   "an OpenAI-compatible /v1/embeddings endpoint (e.g. a local model in Ollama): with a library, "
                   "papers close to its items in meaning rank higher too, beside shared words; each text is embedded "
                   "once and kept on disk; an endpoint that fails is reported and the day is ranked without it. "
                   "Keys as for the LLM: without base_url, OPENAI_API_KEY and OPENAI_BASE_URL; with one, the "
                   "variable api_key_env names, or no key"),
    "price": ((int, float, dict), "0 (a local model) or a table { input = …, output = … } "
                                  "in US dollars per million tokens", "the model's price when prices.toml does not list it"),
    "analysis_length": (str, f"one of {', '.join(ANALYSIS_LENGTHS)}",
                        "how long each analysis is: concise (~2,000 Chinese characters or 700 English words, "
                        "4,096 output tokens at most), standard (no length instruction, 8,192; the default) or full "
                        "(8,000-12,000 characters, 16,384); sets the prompt's length instruction and the output budget"),
    "batch": (bool, "true or false", "send the day's analyses as one Message Batch: half price, results "
                                     "within 24 hours, published as later refreshes collect them "
                                     "(provider anthropic only; default false)"),
    "triage": (bool, "true or false", "before any analysis, score every candidate's title and abstract in one "
                                      "call a day, and analyse only the top max_papers (default false)"),
    "triage_model": (str, "a model id string", "the (cheaper) model of that call; setting it turns triage on "
                                               "(default: the feed's model)"),
    "judge_model": (str, "a model id string", "an optional cheap second-opinion model (same provider and endpoint) "
                                              "asked after the rules pass an analysis: is it about this paper, did it "
                                              "obey instructions in the paper; its rejections have reason code `judge` "
                                              "and its calls count in the budget (default: off)"),
}
_KEY_ENV = re.compile(r"^[A-Z][A-Z0-9_]*_API_KEY$")
_PRICE_KEYS = ("input", "output", "cache_write", "cache_read")
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
        numeric = expected is int or (isinstance(expected, tuple) and float in expected)
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
    provider = data.get("provider", FeedSpec.provider)
    if provider not in PROVIDERS:
        raise ConfigError(path, "provider", f"expected one of {', '.join(PROVIDERS)}, got {provider!r}")
    if provider != FeedSpec.provider and "model" not in data:
        raise ConfigError(path, "model", f"missing (required with provider = {provider!r})")
    model = data.get("model", FeedSpec.model).strip()
    if not model:
        raise ConfigError(path, "model", "must not be empty")
    base_url = data.get("base_url")
    if base_url is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", base_url.strip()):
        raise ConfigError(path, "base_url", f"expected an http(s) URL, got {base_url!r}")
    length = data.get("analysis_length", FeedSpec.analysis_length)
    if length not in ANALYSIS_LENGTHS:
        raise ConfigError(path, "analysis_length", f"expected one of {', '.join(ANALYSIS_LENGTHS)}, got {length!r}")
    if data.get("batch") and provider != "anthropic":
        raise ConfigError(path, "batch", f"Message Batches need provider = \"anthropic\", not {provider!r}")
    key_env = data.get("api_key_env")
    if key_env is not None and not _KEY_ENV.match(key_env):
        # only …_API_KEY: a spec must not be able to send, say, the admin token to its endpoint
        raise ConfigError(path, "api_key_env", f"expected a variable name ending in _API_KEY, got {key_env!r}")
    spec = FeedSpec(
        name=name,
        path=path,
        title=title,
        categories=categories,
        include_cross_lists=data.get("include_cross_lists", True),
        language=language,
        max_papers=max_papers,
        keywords=_check_strings(path, "keywords", data.get("keywords", [])),
        exclude_keywords=_check_strings(path, "exclude_keywords", data.get("exclude_keywords", [])),
        authors=_check_strings(path, "authors", data.get("authors", [])),
        model=model,
        include_replacements=data.get("include_replacements", False),
        budget_usd=float(budget),
        provider=provider,
        base_url=base_url.strip().rstrip("/") if base_url else None,
        api_key_env=key_env,
        price=_price(path, data["price"]) if "price" in data else None,
        analysis_length=length,
        batch=data.get("batch", False),
        triage=data.get("triage", False),
        triage_model=(data.get("triage_model") or "").strip() or None,
        library=_library(path, data["library"]) if isinstance(data.get("library"), str) else None,
        zotero=_zotero(path, data["library"]) if isinstance(data.get("library"), dict) else None,
        embeddings=_embeddings(path, data["embeddings"]) if "embeddings" in data else None,
        judge_model=_judge_model(path, data),
    )
    price_for(spec)  # an unknown paid model stops start-up here, naming the prices file
    if spec.triage_model:
        try:
            price_for(replace(spec, model=spec.triage_model))
        except ConfigError as e:
            raise ConfigError(path, "triage_model", e.problem) from e
    if spec.judge_model:
        price_for(replace(spec, model=spec.judge_model))  # the judge is billed too
    return spec


def _judge_model(path: Path, data: dict) -> str | None:
    if "judge_model" not in data:
        return None
    model = data["judge_model"].strip()
    if not model:
        raise ConfigError(path, "judge_model", "must not be empty (leave the key out to turn the judge off)")
    return model


def _price(path: Path, value: int | float | dict) -> Price:
    """`price = 0` (free: a local model) or `price = { input = …, output = … }` per million tokens."""
    if not isinstance(value, dict):
        if value != 0:
            raise ConfigError(path, "price", f"a single number must be 0 (a local model), got {value!r}; "
                              "give { input = …, output = … } in US dollars per million tokens")
        return Price(0.0, 0.0, 0.0, 0.0)
    for key, v in value.items():
        if key not in _PRICE_KEYS:
            raise ConfigError(path, "price", f"unknown key {key!r} (known: {', '.join(_PRICE_KEYS)})")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
            raise ConfigError(path, "price", f"{key} must be a number of US dollars >= 0, got {v!r}")
    for key in ("input", "output"):
        if key not in value:
            raise ConfigError(path, "price", f"{key} missing (US dollars per million tokens)")
    return Price(**{k: float(v) for k, v in value.items()})


def _library(path: Path, value: str) -> Path:
    """The library file's path; whether it can be read is the refresh's question (a broken
    library must not take the feed, or every other feed, down with it)."""
    if not value.strip() or any(ord(c) < 32 for c in value):
        raise ConfigError(path, "library", f"expected a file path, got {value!r}")
    return path.parent / Path(value.strip()).expanduser()


_EMBEDDINGS_KEYS = ("model", "base_url", "api_key_env")


def _embeddings(path: Path, value: dict) -> EmbeddingsEndpoint:
    """`{ model = "nomic-embed-text", base_url = "http://localhost:11434/v1" }`, checked as the
    LLM's endpoint is (an http(s) URL; a key only from a …_API_KEY variable)."""
    for key in value:
        if key not in _EMBEDDINGS_KEYS:
            raise ConfigError(path, "embeddings", f"unknown key {key!r} (known: {', '.join(_EMBEDDINGS_KEYS)})")
    model = value.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(path, "embeddings", "model must be the embedding model's name, e.g. \"nomic-embed-text\"")
    url = value.get("base_url")
    if url is not None and not (isinstance(url, str) and re.fullmatch(r"https?://[^\s/]+(/\S*)?", url.strip())):
        raise ConfigError(path, "embeddings", f"base_url: expected an http(s) URL, got {url!r}")
    key_env = value.get("api_key_env")
    if key_env is not None and not (isinstance(key_env, str) and _KEY_ENV.match(key_env)):
        raise ConfigError(path, "embeddings", f"api_key_env must name an environment variable ending in _API_KEY, "
                          f"got {key_env!r}")
    return EmbeddingsEndpoint(model.strip(), url.strip().rstrip("/") if url else None, key_env)


_ZOTERO_KEYS = ("zotero_user", "zotero_group", "key_env")


def _zotero(path: Path, value: dict) -> ZoteroLibrary:
    """`{ zotero_user = 123 }` or `{ zotero_group = 456 }`, with the key's variable if the
    library is not public (only …_API_KEY: a spec must not send, say, the admin token)."""
    for key in value:
        if key not in _ZOTERO_KEYS:
            raise ConfigError(path, "library", f"unknown key {key!r} (known: {', '.join(_ZOTERO_KEYS)})")
    owners = [k for k in ("zotero_user", "zotero_group") if k in value]
    if len(owners) != 1:
        raise ConfigError(path, "library", "give one of zotero_user or zotero_group (the numeric id "
                          "from zotero.org/settings/keys or the group's URL)")
    ident = value[owners[0]]
    if isinstance(ident, str) and ident.strip().isdecimal():
        ident = int(ident.strip())
    if not isinstance(ident, int) or isinstance(ident, bool) or not 0 < ident < 2**53:
        raise ConfigError(path, "library", f"{owners[0]} must be a positive integer id, got {ident!r}")
    key_env = value.get("key_env")
    if key_env is not None and not (isinstance(key_env, str) and _KEY_ENV.match(key_env)):
        raise ConfigError(path, "library", f"key_env must name an environment variable ending in _API_KEY, "
                          f"got {key_env!r}")
    return ZoteroLibrary("users" if owners[0] == "zotero_user" else "groups", ident, key_env)


#: A feed spec is a few hundred bytes; past this it is not one (and is not read).
MAX_SPEC_BYTES = 1_000_000


def load_feed_spec(path: Path) -> FeedSpec:
    """One spec; anything wrong with the file is a `ConfigError` (the web app checks specs on
    requests, where any other exception, or a read that blocks, would fail every request)."""
    try:
        if not path.is_file():  # a FIFO would block the read forever, a device never end
            raise ConfigError(path, None, "not a regular file")
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise ConfigError(path, None, f"larger than {MAX_SPEC_BYTES} bytes: not a feed spec")
        text = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8")  # a BOM from Windows editors
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, None, f"not valid TOML: {e}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(path, None, f"not UTF-8 (TOML is): byte {e.start} ({e.object[e.start:e.start + 1]!r})") from None
    except RecursionError:
        raise ConfigError(path, None, "not valid TOML: arrays or tables nested too deeply") from None
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
