"""Errors the abuse services raise; their messages are for people."""

from __future__ import annotations


class NoticeRefused(Exception):
    """A notice we will not take (rate limit, suspension). The message is for the reporter."""

    def __init__(self, message: str, *, retry_after: int | None = None, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.code = code


class AbuseError(Exception):
    """A staff or appellant action that is not allowed now. The message says why and what to do."""
