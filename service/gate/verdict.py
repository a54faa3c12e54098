"""Reasons and verdicts: what every check produces (typed, never flattened to strings here)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


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
