"""Legal holds across apps: a registry the kernel owns, so neither app imports the other.

An app that places holds (abuse_app: a case reported to NCMEC's CyberTipline, 18 U.S.C.
§2258A(h)) registers a source from its ``AppConfig.ready()``; an app that erases data
(requests_app's engine) asks ``held_until`` before it erases anything about a subject.
A source answers with the end of the latest hold covering any of the identities, or
None; it never says why, so nothing about a report can reach the person it concerns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from datetime import datetime

from django.utils import timezone

HoldSource = Callable[[Mapping[str, Set[str]], datetime], datetime | None]
_SOURCES: list[HoldSource] = []


def register(source: HoldSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def held_until(identities: Mapping[str, Set[str]], now: datetime | None = None) -> datetime | None:
    """When the last hold on any of these identities (kind → values) ends; None: nothing is held."""
    now = now or timezone.now()
    ends = [end for source in _SOURCES if (end := source(identities, now)) is not None and end > now]
    return max(ends, default=None)
