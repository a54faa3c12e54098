"""Renderers: pure functions from published `Day`s to bytes (`RenderedDoc`)."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib

from ..models import RenderedDoc

#: `updated` of a feed with no day published yet (a valid, empty feed for early subscribers).
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def feed_updated(days) -> dt.datetime:
    """A feed's `updated`: its newest day's; before the first day, the time the empty feed is
    rendered (it is stored until a day is published). Atom requires the element, and the W3C
    validator calls 1970 an implausible date; serving still treats the feed as empty (`NEVER`)."""
    return max((d.updated for d in days), default=None) or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


#: Days of entries in a subscription feed; older days live in archives.
FEED_DAYS = 7


def make_doc(body: bytes, content_type: str, last_modified: dt.datetime) -> RenderedDoc:
    """Bytes plus what serving needs: a gzip copy (mtime 0, so stable) and a content ETag."""
    digest = hashlib.sha256(body).hexdigest()[:32]
    return RenderedDoc(body=body, gzipped=gzip.compress(body, compresslevel=9, mtime=0),
                       etag=digest, content_type=content_type,
                       last_modified=last_modified.replace(microsecond=0))
