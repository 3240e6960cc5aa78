"""A real SMTP server (aiosmtpd) for tests: it receives, counts and can be told to refuse.

sink = SmtpSink.start()
sink.refuse("bob@x.example", "451 4.7.1 try later", times=1)
... send ...
sink.received_by("bob@x.example")  -> list of parsed messages
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, email.message_from_bytes(self.raw, policy=email.policy.default))


@dataclass
class _Script:
    rcpt_replies: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    data_replies: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    hang_up_after_data: dict[str, int] = field(default_factory=Counter)
    close_after_data: set[str] = field(default_factory=set)
    data_delay: float = 0.0


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        replies = self.sink.script.rcpt_replies.get(address.lower())
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        script = self.sink.script
        if script.data_delay:
            time.sleep(script.data_delay)  # the server is slow: blocks its loop like a real one
        rcpt = envelope.rcpt_tos[0].lower()
        replies = script.data_replies.get(rcpt)
        if replies:
            return replies.pop(0)
        raw = cast(bytes, envelope.original_content or envelope.content)
        with self.sink.lock:
            self.sink.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw)
            )
        if script.hang_up_after_data[rcpt] > 0:
            # Take the message, then vanish before answering: the sender cannot know.
            script.hang_up_after_data[rcpt] -= 1
            assert server.transport is not None
            server.transport.abort()
        if rcpt in script.close_after_data:
            # Answer, then close the connection, as an idle timeout does.
            assert server.transport is not None
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 OK queued as T" + str(len(self.sink.received))


class SmtpSink:
    """An aiosmtpd server on a free loopback port, in a thread of the test process."""

    def __init__(self, **smtp_options: Any) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.script = _Script()
        self.port = _free_port()
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **smtp_options
        )

    @classmethod
    def start(cls, **smtp_options: Any) -> SmtpSink:
        sink = cls(**smtp_options)
        sink.controller.start()
        return sink

    def stop(self) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def refuse(self, address: str, reply: str, times: int = 1, at: str = "rcpt") -> None:
        """Answer the next `times` RCPT (or DATA) for address with reply."""
        replies = self.script.rcpt_replies if at == "rcpt" else self.script.data_replies
        replies[address.lower()].extend([reply] * times)

    def hang_up_after_data(self, address: str, times: int = 1) -> None:
        """Take address's next message, then drop the connection without answering."""
        self.script.hang_up_after_data[address.lower()] += times

    def close_after(self, address: str) -> None:
        """Close the connection right after accepting address's message."""
        self.script.close_after_data.add(address.lower())

    def slow_down(self, seconds: float) -> None:
        self.script.data_delay = seconds

    def received_by(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address.lower() in (a.lower() for a in r.rcpt_to)]

    def counts(self) -> Counter[str]:
        """How many messages each address received."""
        with self.lock:
            return Counter(a.lower() for r in self.received for a in r.rcpt_to)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accept_only(username: str, password: str) -> Any:
    """An aiosmtpd authenticator that accepts one user."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            getattr(data, "login", b"") == username.encode()
            and getattr(data, "password", b"") == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


def client_context_for(ca: Any) -> ssl.SSLContext:
    """A client TLS context that trusts a trustme CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context
