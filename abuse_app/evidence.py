"""Evidence uploads: limits, type sniffed from the bytes, hashing.

The type is decided by the file's first bytes (magic numbers), never by its
name or the browser's claim: a program renamed ``photo.jpg`` is refused. Only
the types an operator allows (``PORTAL_ABUSE_EVIDENCE_TYPES``) are accepted.
Files are checked completely before anything is stored, so a refused report
leaves nothing behind.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TYPE_LABELS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "application/pdf": "PDF",
    "text/plain": gettext_lazy("plain text"),
    "video/mp4": "MP4",
    "video/quicktime": "QuickTime (MOV)",
    "video/webm": "WebM",
}
# Programs and archives get their own message: they are the usual disguise.
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_TEXT_CONTROL_OK = {9, 10, 12, 13}
_CHUNK = 64 * 1024


def sniff(head: bytes) -> str | None:
    """The MIME type of a file from its first bytes, for the types we can accept; None if unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head[4:8] in _QUICKTIME_ATOMS:
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else None
    return None


def is_executable(head: bytes) -> bool:
    return head.startswith(_EXECUTABLE_MAGIC)


class _Utf8Check:
    """Incremental check that a stream is UTF-8 text without binary control bytes."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.ok = True

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if not self.ok:
            return
        try:
            text = self.decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            self.ok = False
            return
        if any(ord(ch) < 32 and ord(ch) not in _TEXT_CONTROL_OK for ch in text) or "\x7f" in text:
            self.ok = False


@dataclass
class CheckedFile:
    upload: UploadedFile
    content_type: str
    size: int
    sha256: str
    original_name: str


def allowed_types() -> list[str]:
    return list(settings.PORTAL_ABUSE_EVIDENCE_TYPES)


def _allowed_labels() -> str:
    return ", ".join(str(TYPE_LABELS.get(t, t)) for t in allowed_types())


def _clean_name(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:200]


def check_file(upload: UploadedFile) -> CheckedFile:
    name = _clean_name(upload.name or "")
    max_bytes = settings.PORTAL_ABUSE_EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            _("“%(name)s” is %(size)s; each file may be at most %(max)s. Send a smaller file or a link instead.")
            % {"name": name, "size": filesizeformat(upload.size), "max": filesizeformat(max_bytes)}
        )
    upload.seek(0)
    head = upload.read(4096)
    if not head:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name})
    if is_executable(head):
        raise ValidationError(
            _(
                "“%(name)s” is a program or script, not a picture, document or video. "
                "We do not accept programs, "
                "whatever their name. Allowed: %(types)s."
            )
            % {"name": name, "types": _allowed_labels()}
        )
    content_type = sniff(head)
    text_check = _Utf8Check() if content_type is None else None
    digest = hashlib.sha256()
    size = 0
    chunk = head
    while chunk:
        digest.update(chunk)
        size += len(chunk)
        if text_check:
            text_check.feed(chunk)
        if size > max_bytes:  # the size the client declared can lie
            raise ValidationError(
                _("“%(name)s” is larger than %(max)s, the limit for each file.")
                % {"name": name, "max": filesizeformat(max_bytes)}
            )
        chunk = upload.read(_CHUNK)
    if text_check:
        text_check.feed(b"", final=True)
        if text_check.ok:
            content_type = "text/plain"
    upload.seek(0)
    if content_type is None or content_type not in allowed_types():
        raise ValidationError(
            _(
                "We could not accept “%(name)s”: its content is not one of the allowed types (%(types)s). "
                "The file name does not matter; the content does."
            )
            % {"name": name, "types": _allowed_labels()}
        )
    return CheckedFile(
        upload=upload, content_type=content_type, size=size, sha256=digest.hexdigest(), original_name=name
    )


def check_files(uploads: list[UploadedFile]) -> list[CheckedFile]:
    max_files = settings.PORTAL_ABUSE_EVIDENCE_MAX_FILES
    if len(uploads) > max_files:
        raise ValidationError(
            _("You attached %(count)d files; at most %(max)d are accepted. Remove some, or send links instead.")
            % {"count": len(uploads), "max": max_files}
        )
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(check_file(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return checked
