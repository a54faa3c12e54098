"""What LLM calls cost and whether today's budget allows another one.

Prices live in `service/data/prices.toml`. Spend is counted per feed and overall per
UTC day in the store, from the usage the API reports, for every call (passing or not).
"""
from __future__ import annotations

import datetime as dt
import threading
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Protocol

from .models import Reason, utcnow

MICRO = 1_000_000


@dataclass(frozen=True)
class Price:
    input: float
    output: float


@cache
def prices() -> tuple[dict[str, Price], Price]:
    data = tomllib.loads(resources.files("service").joinpath("data/prices.toml").read_text("utf-8"))
    table = {name: Price(**p) for name, p in data.get("models", {}).items()}
    return table, Price(**data["default"])


def price_of(model: str) -> Price:
    table, default = prices()
    # Dated ids ("claude-haiku-4-5-20251001") price like their family.
    return table.get(model) or next((p for name, p in table.items() if model.startswith(name)), default)


def cost_usd(model: str, input_tokens: int, output_tokens: int, cache_write: int = 0, cache_read: int = 0) -> float:
    p = price_of(model)
    return (input_tokens * p.input + cache_write * p.input * 1.25 + cache_read * p.input * 0.1
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

    def settle(self, feed: str, reserved_usd: float, actual_usd: float) -> None:
        """Replace a reservation by what the call really cost (from the reported usage)."""
        self.ledger.add_spend_micro((feed, ALL_FEEDS), self._day(), round(actual_usd * MICRO) - round(reserved_usd * MICRO))

    def charge(self, feed: str, usd: float) -> None:
        self.ledger.add_spend_micro((feed, ALL_FEEDS), self._day(), round(usd * MICRO))


def most_cost_usd(model: str, prompt_chars: int, max_output_tokens: int) -> float:
    """An upper bound of one call: every prompt character a token (CJK text is about one
    per character, English about four per token) and the whole output budget used."""
    return cost_usd(model, prompt_chars, max_output_tokens)
