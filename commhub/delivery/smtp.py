"""SMTP delivery: one connection reused across messages, reconnected when it drops.

smtp://[user:pass@]host:port upgrades with STARTTLS when the server offers it, and logs in
only if credentials are given (and never sends them unencrypted beyond this machine);
smtps:// speaks TLS from the first byte. Each message is MAIL, RCPT and DATA, so that every
answer can be told apart:

- refused before the message data left (MAIL, RCPT, DATA's 354): a 4xx is RETRY, a 5xx is
  FAILED; a dropped connection is reconnected once and the message tried again;
- after the data left: 250 is SENT, 4xx RETRY, 5xx FAILED; no answer at all (a timeout, a
  reset) is UNKNOWN: the server may have taken the message, so it is not resent silently;
- the server unreachable: the message and the rest of the batch are DEFERRED;
- credentials refused, or the sender address refused: BackendBlocked, the edition pauses.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from datetime import datetime

from commhub.config import SmtpUrl, is_loopback
from commhub.delivery.backend import BackendBlocked, DeliveryResult, Outcome, OutgoingMessage
from commhub.store import utcnow

_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
RECONNECT_DELAY = 10.0


class _Refused(Exception):  # noqa: N818 - internal signal, never leaves this module
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class _Closing(smtplib.SMTPException):
    """The server answered 421: it is closing the connection (often: slow down)."""


class SmtpBackend:
    name = "smtp"
    max_batch = 50

    def __init__(
        self,
        url: SmtpUrl,
        timeout: float = 30.0,
        now: Callable[[], datetime] = utcnow,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self._now = now
        self._tls = tls_context or ssl.create_default_context()
        self._client: smtplib.SMTP | None = None
        self.connections = 0  # how many times a connection was opened

    def send(self, batch: Sequence[OutgoingMessage]) -> list[DeliveryResult]:
        date = self._now()
        results: list[DeliveryResult] = []
        for index, message in enumerate(batch):
            try:
                data = message.as_bytes(date)
            except (ValueError, UnicodeError) as exc:
                results.append(
                    DeliveryResult(message.message_id, Outcome.FAILED, f"cannot build: {exc}")
                )
                continue
            try:
                results.append(self._send_one(message, data))
            except BackendBlocked as exc:
                raise BackendBlocked(exc.reason, results) from None
            except (OSError, smtplib.SMTPException) as exc:
                # The server cannot be reached, or sheds load: nothing more is attempted.
                self._drop()
                if isinstance(exc, _Closing):
                    detail = f"{self.url.host} is closing connections: {exc}"
                else:
                    detail = f"cannot reach {self.url.host}:{self.url.port}: {_describe(exc)}"
                results += [
                    DeliveryResult(m.message_id, Outcome.DEFERRED, detail, RECONNECT_DELAY)
                    for m in batch[index:]
                ]
                break
        return results

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._client.quit()
            self._drop()

    def _send_one(self, message: OutgoingMessage, data: bytes) -> DeliveryResult:
        envelope_from = message.content.envelope.from_address
        to = message.recipient.address
        for first_try in (True, False):
            client = self._connected()
            try:
                self._before_data(client, envelope_from, to)
                break
            except _Refused as refused:
                return self._refused(message.message_id, refused, client)
            except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError):
                # The server closed an idle connection: nothing was sent; try a fresh one.
                self._drop()
                if not first_try:
                    raise
        try:
            client.send(_dot_stuffed(data) + b".\r\n")
            code, reply = client.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._drop()
            return DeliveryResult(
                message.message_id, Outcome.UNKNOWN,
                f"no answer after the message was sent: {_describe(exc)}",
            )  # fmt: skip
        detail = f"{code} {reply.decode(errors='replace')}"
        if 200 <= code < 300:
            return DeliveryResult(
                message.message_id, Outcome.SENT, provider_message_id=_queue_id(detail)
            )
        if 400 <= code < 600:
            return self._refused(message.message_id, _Refused(code, detail), client)
        # Not an answer SMTP allows here: whether the server kept the message is unknown.
        self._drop()
        return DeliveryResult(message.message_id, Outcome.UNKNOWN, f"unexpected answer: {detail}")

    def _before_data(self, client: smtplib.SMTP, envelope_from: str, to: str) -> None:
        options = ["SMTPUTF8"] if not (envelope_from + to).isascii() else []
        if options and not client.has_extn("smtputf8"):
            raise _Refused(553, "the server does not accept non-ASCII addresses (no SMTPUTF8)")
        code, reply = client.mail(envelope_from, options)
        if code != 250:
            text = f"{code} {reply.decode(errors='replace')}"
            if code >= 500:
                raise BackendBlocked(f"the server refused the sender {envelope_from}: {text}")
            raise _Refused(code, text)
        code, reply = client.rcpt(to)
        if code not in (250, 251):
            raise _Refused(code, f"{code} {reply.decode(errors='replace')}")
        code, reply = client.docmd("DATA")
        if code != 354:
            raise _Refused(code, f"{code} {reply.decode(errors='replace')}")

    def _refused(self, message_id: int, refused: _Refused, client: smtplib.SMTP) -> DeliveryResult:
        if refused.code == 421:
            raise _Closing(refused.detail)
        try:
            client.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()
        outcome = Outcome.FAILED if refused.code >= 500 else Outcome.RETRY
        return DeliveryResult(message_id, outcome, refused.detail)

    def _connected(self) -> smtplib.SMTP:
        if self._client is not None:
            return self._client
        url = self.url
        local_name = socket.gethostname()
        client: smtplib.SMTP
        if url.tls:
            client = smtplib.SMTP_SSL(
                url.host, url.port, local_hostname=local_name, timeout=self.timeout,
                context=self._tls,
            )  # fmt: skip
        else:
            client = smtplib.SMTP(
                url.host, url.port, local_hostname=local_name, timeout=self.timeout
            )
        try:
            client.ehlo_or_helo_if_needed()
            encrypted = url.tls
            if not url.tls and client.has_extn("starttls"):
                client.starttls(context=self._tls)
                client.ehlo()
                encrypted = True
            if url.username:
                if not encrypted and not is_loopback(url.host):
                    raise BackendBlocked(
                        f"{url.host} offers no STARTTLS: refusing to send the password unencrypted"
                    )
                client.login(url.username, url.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            client.close()
            raise BackendBlocked(f"{url.host} refused the credentials: {_describe(exc)}") from None
        except smtplib.SMTPNotSupportedError:
            client.close()
            raise BackendBlocked(f"{url.host} does not accept logins (no AUTH)") from None
        except BaseException:
            client.close()
            raise
        self._client = client
        self.connections += 1
        return client

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.close()
        self._client = None


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA needs it: a line that starts with a dot gets a second one.

    commhub's encoder never starts a body line with a dot, so the scan is usually a find.
    """
    if data.startswith(b".") or b"\r\n." in data:
        return _LEADING_DOT.sub(b"..", data)
    return data


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    return str(exc) or type(exc).__name__


def _queue_id(detail: str) -> str | None:
    """The server's id for the message, when its answer names one ("queued as ABC123")."""
    match = re.search(r"queued as ([\w.-]+)", detail, re.IGNORECASE)
    return match.group(1) if match else detail[:200]
