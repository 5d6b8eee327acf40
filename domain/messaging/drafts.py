"""Input rules of a message before it is screened and stored (SPEC §10): sizes, attachments, and
the email rules of seeds 000/001 — inline images at most 15 KB each, no CID references."""

from __future__ import annotations

import base64
import binascii
import re

from domain.channels import Channel
from domain.configuration.responses import MESSAGING_CHANNELS
from domain.errors import ValidationFailed
from domain.messaging.message import Attachment, MessageDraft
from domain.validation import Rules

TEXT_MAX_LENGTH = 20_000
SMS_MAX_LENGTH = 1_600  # ten concatenated SMS segments
SUBJECT_MAX_LENGTH = 250
HTML_MAX_LENGTH = 200_000
MAX_ATTACHMENTS = 10
ATTACHMENT_NAME_MAX_LENGTH = 255
ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
INLINE_IMAGE_MAX_BYTES = 15 * 1024
URL_MAX_LENGTH = 2_000
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")
_URL = re.compile(r"^https?://[^\s]+$")
_DATA_URI = re.compile(r"data:image/[\w.+-]+;base64,([A-Za-z0-9+/=\s]*)", re.IGNORECASE)
_CID = re.compile(r"""(?:src|href|background)\s*=\s*["']?\s*cid:""", re.IGNORECASE)


def validate_agent_draft(channel: Channel, draft: MessageDraft) -> None:
    rules = Rules()
    if channel not in MESSAGING_CHANNELS:
        rules.fail("taskId", "messaging_channel", f"a {channel} task has no messages")
    _common(rules, channel, draft)
    if channel is not Channel.EMAIL:
        if draft.html is not None:
            rules.fail("html", "email_only", "an HTML body is for email only")
        if draft.subject is not None:
            rules.fail("subject", "email_only", "a subject is for email only")
        if any(a.inline for a in draft.attachments):
            rules.fail("attachments", "email_only", "inline images are for email only")
    else:
        _email(rules, draft)
    rules.check()


def validate_customer_draft(channel: Channel, draft: MessageDraft) -> None:
    """A customer's message is what they sent: only the limits that protect storage apply."""
    rules = Rules()
    _common(rules, channel, draft)
    rules.check()


def _common(rules: Rules, channel: Channel, draft: MessageDraft) -> None:
    limit = SMS_MAX_LENGTH if channel is Channel.SMS else TEXT_MAX_LENGTH
    if not draft.text.strip() and not draft.attachments and not (draft.html or "").strip():
        rules.fail("text", "required", "a message needs text or an attachment")
    rules.optional_text("text", draft.text, max_length=limit)
    rules.optional_text("subject", draft.subject, max_length=SUBJECT_MAX_LENGTH)
    rules.optional_text("html", draft.html, max_length=HTML_MAX_LENGTH)
    if len(draft.attachments) > MAX_ATTACHMENTS:
        rules.fail(
            "attachments",
            f"max_items:{MAX_ATTACHMENTS}",
            f"at most {MAX_ATTACHMENTS} attachments per message",
        )
    for index, attachment in enumerate(draft.attachments):
        _attachment(rules, f"attachments.{index}", attachment)


def _attachment(rules: Rules, field: str, attachment: Attachment) -> None:
    rules.text(f"{field}.name", attachment.name, max_length=ATTACHMENT_NAME_MAX_LENGTH)
    if not _MEDIA_TYPE.match(attachment.media_type) or len(attachment.media_type) > 127:
        rules.fail(f"{field}.mediaType", "media_type", "a media type such as image/png")
    maximum = INLINE_IMAGE_MAX_BYTES if attachment.inline else ATTACHMENT_MAX_BYTES
    rules.int_range(f"{field}.size", attachment.size, minimum=1, maximum=maximum)
    if attachment.url is None:
        rules.fail(f"{field}.url", "required", "the URL where the content is hosted")
    elif len(attachment.url) > URL_MAX_LENGTH or not _URL.match(attachment.url):
        rules.fail(f"{field}.url", "url", "an http(s) URL")


def _email(rules: Rules, draft: MessageDraft) -> None:
    html = draft.html or ""
    if _CID.search(html):
        rules.fail("html", "no_cid", "CID references are refused: inline images as data: URIs")
    for index, match in enumerate(_DATA_URI.finditer(html)):
        if _decoded_size(match.group(1)) > INLINE_IMAGE_MAX_BYTES:
            rules.fail(
                f"html.images.{index}",
                f"max_bytes:{INLINE_IMAGE_MAX_BYTES}",
                "an inline image may have at most 15 KB",
            )


def _decoded_size(encoded: str) -> int:
    compact = "".join(encoded.split())
    try:
        return len(base64.b64decode(compact, validate=False))
    except (binascii.Error, ValueError):
        # Unreadable data counts at its encoded length: never below the real size.
        return len(compact)


__all__ = ["ValidationFailed", "validate_agent_draft", "validate_customer_draft"]
