"""Progress of long commands on a terminal: a bar per stage (tqdm) on a TTY, one plain
line per finished stage otherwise (logs, cron, CI)."""
from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from .refresh import ProgressEvent


class TerminalProgress:
    """A `refresh.Progress` for the CLI: `refresh(..., progress=TerminalProgress())`."""

    def __init__(self, stream: TextIO | None = None, bars: bool | None = None):
        self.stream = stream or sys.stderr
        self.bars = self.stream.isatty() if bars is None else bars
        self._bar: tqdm | None = None
        self._stage: tuple[str, str] | None = None

    def __call__(self, e: ProgressEvent) -> None:
        extra = f", {e.pending} pending, ${e.cost_usd:.4f}" if e.stage == "analysis" else ""
        if not self.bars:
            if e.done == e.total:
                what = "chosen of" if e.stage == "listing" else "of"
                print(f"{e.feed}: {e.stage}: {e.done} {what} {e.total}{extra}", file=self.stream, flush=True)
            return
        if self._stage != (e.feed, e.stage):
            self.close()
            self._stage = (e.feed, e.stage)
            self._bar = tqdm(total=e.total, desc=f"{e.feed}: {e.stage}", file=self.stream, leave=True,
                             unit="paper", dynamic_ncols=True)
        self._bar.n = e.done
        self._bar.set_postfix_str(extra.lstrip(", "), refresh=False)
        self._bar.refresh()
        if e.done == e.total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar, self._stage = None, None
