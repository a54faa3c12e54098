"""Reasons and verdicts: what every check produces (typed, never flattened to strings here)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Reason  # the one Reason type, from the gate to the renderers


@dataclass
class Verdict:
    reasons: list[Reason] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons

    def add(self, code: str, detail: str) -> None:
        self.reasons.append(Reason(code, detail))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.code for r in self.reasons))
