"""What LLM calls cost and whether today's budget allows another one.

Prices live in `service/data/prices.toml`. Spend is counted per feed and overall per
UTC day in the store, from the usage the API reports, for every call (passing or not).
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import tomllib
from functools import cache
from importlib import resources
from typing import Protocol

from .errors import ConfigError
from .models import FeedSpec, Price, Reason, utcnow

MICRO = 1_000_000


#: Where prices live, as named in error messages.
PRICES_FILE = "service/data/prices.toml"
#: A dated model id ("claude-haiku-4-5-20251001", "gpt-4o-mini-2024-07-18") prices like its family.
_DATED = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


@cache
def _price_data() -> dict:
    return tomllib.loads(resources.files("service").joinpath("data/prices.toml").read_text("utf-8"))


@cache
def prices() -> tuple[dict[str, Price], Price]:
    data = _price_data()
    table = {name: Price(**p) for name, p in data.get("models", {}).items()}
    return table, Price(**data["default"])


def batch_factor() -> float:
    """The share of the price a Message Batches request costs (Anthropic: half)."""
    return float(_price_data().get("batch_factor", 1.0))


def prices_checked() -> str:
    """The date the price table was last checked against the providers' lists."""
    return str(_price_data().get("checked", "unknown"))


def listed_price(model: str) -> Price | None:
    """The prices file's entry for a model (or its undated family), None if it has none."""
    table, _ = prices()
    if model in table:
        return table[model]
    dated = _DATED.search(model)
    return table.get(model[:dated.start()]) if dated else None


def price_of(model: str) -> Price:
    """Lenient: an unlisted model costs the most expensive rate, so a budget errs low."""
    return listed_price(model) or prices()[1]


def price_for(spec: FeedSpec) -> Price:
    """A feed's price: its spec's own (`price = 0` for a local model), else the prices file's.

    Checked when the specs are loaded, so an unknown paid model stops start-up instead of
    being billed at a guessed rate."""
    price = spec.price or listed_price(spec.model)
    if price is None:
        raise ConfigError(spec.path, "model", f"no price for {spec.provider} model {spec.model!r} in "
                          f"{PRICES_FILE} (checked {prices_checked()}): add it there, or set this feed's "
                          "own `price` (`price = 0` for a local model, or "
                          "`price = {{ input = 0.28, output = 0.42 }}` in US dollars per million tokens)")
    return price


def cost_usd(model: str | Price, input_tokens: int, output_tokens: int, cache_write: int = 0,
             cache_read: int = 0) -> float:
    """Dollars of one call from its reported usage; `input_tokens` excludes cached ones."""
    p = model if isinstance(model, Price) else price_of(model)
    write = p.input * 1.25 if p.cache_write is None else p.cache_write
    read = p.input * 0.1 if p.cache_read is None else p.cache_read
    return (input_tokens * p.input + cache_write * write + cache_read * read
            + output_tokens * p.output) / 1_000_000


class Ledger(Protocol):
    """Where spend is counted (the store): micro-dollars per scope and UTC day."""

    def spent_micro(self, scope: str, day: str) -> int: ...

    def add_spend_micro(self, scopes: tuple[str, ...], day: str, amount: int) -> None: ...


#: The scope that counts every feed together.
ALL_FEEDS = "*"


class Budget:
    """Daily spend per feed (`budget_usd` in the spec) and overall (`DIGEST_DAILY_BUDGET_USD`)."""

    def __init__(self, ledger: Ledger, global_limit_usd: float):
        self.ledger, self.global_limit = ledger, global_limit_usd
        self._lock = threading.Lock()

    @staticmethod
    def _day(now: dt.datetime | None = None) -> str:
        return (now or utcnow()).date().isoformat()

    def spent(self, feed: str | None = None) -> float:
        return self.ledger.spent_micro(feed or ALL_FEEDS, self._day()) / MICRO

    def refusal(self, feed: str, feed_limit_usd: float, upcoming_usd: float = 0.0) -> Reason | None:
        """Why no further call (of at most `upcoming_usd`) may be made today, or None."""
        for limit, spent, whose in ((feed_limit_usd, self.spent(feed), f"feed {feed}'s ${feed_limit_usd:.2f}"),
                                    (self.global_limit, self.spent(), f"the global ${self.global_limit:.2f}")):
            if not limit:
                continue
            if upcoming_usd > limit:
                return Reason("budget", f"one call may cost up to ${upcoming_usd:.4f}, more than {whose} a day")
            if spent + upcoming_usd > limit:
                return Reason("budget", f"${spent:.4f} of {whose} spent or reserved today; "
                                        f"the next call may cost up to ${upcoming_usd:.4f}")
        return None

    def reserve(self, feed: str, feed_limit_usd: float, most_usd: float) -> Reason | None:
        """Count the most a call can cost before sending it, or say why it may not be sent.

        Reserving first keeps concurrent calls inside the budget (checking after each call
        let four calls in flight overshoot it 3×), and a process killed mid-call leaves its
        reservation in the ledger: money in flight is never missing from it."""
        with self._lock:
            refusal = self.refusal(feed, feed_limit_usd, most_usd)
            if refusal is None:
                self.charge(feed, most_usd)
            return refusal

    def settle(self, feed: str, reserved_usd: float, actual_usd: float, day: str | None = None) -> None:
        """Replace a reservation by what the call really cost (from the reported usage), on
        the UTC day it was reserved (`day`; default today): a batch's results may come the
        next day, and that day's budget did not pay for them."""
        self.ledger.add_spend_micro((feed, ALL_FEEDS), day or self._day(),
                                    round(actual_usd * MICRO) - round(reserved_usd * MICRO))

    def charge(self, feed: str, usd: float) -> None:
        self.ledger.add_spend_micro((feed, ALL_FEEDS), self._day(), round(usd * MICRO))


def most_cost_usd(model: str | Price, prompt_chars: int, max_output_tokens: int, calls: int = 1) -> float:
    """An upper bound of one call: every prompt character a token (CJK text is about one
    per character, English about four per token) and the whole output budget used.

    With `calls` > 1 (a provider that may send a repair request after a broken answer),
    each later request also carries the earlier answer as input."""
    return sum(cost_usd(model, prompt_chars + n * max_output_tokens, max_output_tokens) for n in range(calls))
