"""Rendering: an edition's content as Jinja2 -> MJML -> HTML, compiled once per role set;
the per-contact placeholders, the RFC 5322 bytes, every per-contact link and its signed token.
"""

from __future__ import annotations

from commhub.render.content_plan import AudienceInfo, ContentPlan, PickedItem, Section, leave_out
from commhub.render.links import LinkKind, message_link
from commhub.render.mime import (
    LIST_UNSUBSCRIBE_POST,
    Envelope,
    Mailbox,
    MimeBody,
    Recipient,
    build_message,
    list_unsubscribe,
)
from commhub.render.placeholders import (
    ContactValues,
    Personalisable,
    SubstitutionPlan,
    html_placeholder,
    inert_raw_tags,
    raw_placeholder,
    substitution_plan,
)
from commhub.render.renderer import (
    CLIPPED_HTML_BYTES,
    PREVIEW_TOKEN,
    CompiledMessage,
    EditionFacts,
    PreviewLinks,
    Renderer,
    Sender,
    TrackedLinks,
    subject_problem,
)
from commhub.render.social_text import (
    LIMITS,
    ComposedPost,
    PostTooLong,
    SocialComposer,
    SocialItem,
    measure,
)
from commhub.render.tokens import (
    FeedTokens,
    Tokens,
    attribution_tokens,
    calendar_tokens,
    message_tokens,
    personal_feed_tokens,
    post_tokens,
)

__all__ = [
    "CLIPPED_HTML_BYTES",
    "LIMITS",
    "LIST_UNSUBSCRIBE_POST",
    "PREVIEW_TOKEN",
    "AudienceInfo",
    "CompiledMessage",
    "ComposedPost",
    "ContactValues",
    "ContentPlan",
    "EditionFacts",
    "Envelope",
    "FeedTokens",
    "LinkKind",
    "Mailbox",
    "MimeBody",
    "Personalisable",
    "PickedItem",
    "PostTooLong",
    "PreviewLinks",
    "Recipient",
    "Renderer",
    "Section",
    "Sender",
    "SocialComposer",
    "SocialItem",
    "SubstitutionPlan",
    "Tokens",
    "TrackedLinks",
    "attribution_tokens",
    "build_message",
    "calendar_tokens",
    "html_placeholder",
    "inert_raw_tags",
    "leave_out",
    "list_unsubscribe",
    "measure",
    "message_link",
    "message_tokens",
    "personal_feed_tokens",
    "post_tokens",
    "raw_placeholder",
    "subject_problem",
    "substitution_plan",
]
