"""A real SMTP server (aiosmtpd) on a local port that records what it accepts and can be told to fail."""

import asyncio
import email
import email.policy
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    envelope_to: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, sink: "SmtpSink") -> None:
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.sink.lock:
            self.sink.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.sink.lock:
            self.sink.rcpts_started += 1
        # A pause before the message is accepted leaves a window to kill a worker mid-send.
        if self.sink.rcpt_delay:
            await asyncio.sleep(self.sink.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            targeted = self.sink.replies_to.get(envelope.rcpt_tos[0])
            if targeted:
                reply = targeted.popleft()
            elif self.sink.replies:
                reply = self.sink.replies.popleft()
            else:
                reply = "250 Message accepted"
            self.sink.attempts += 1
            self.sink.attempts_to[envelope.rcpt_tos[0]] = self.sink.attempts_to.get(envelope.rcpt_tos[0], 0) + 1
            if reply.startswith("250"):
                message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
                self.sink.received.append(Received(list(envelope.rcpt_tos), message))
        return reply


class SmtpSink:
    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.replies: deque[str] = deque()
        self.replies_to: dict[str, deque[str]] = {}
        self.attempts = 0
        self.attempts_to: dict[str, int] = {}
        self.rcpts_started = 0
        self.greetings = 0  # EHLOs: one per SMTP connection
        self.rcpt_delay = 0.0
        self.controller: Controller | None = None

    def start(self) -> None:
        """Listen on the port; after a stop() this starts afresh (aiosmtpd closes a stopped loop)."""
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def reply_next(self, *replies: str, to: str | None = None) -> None:
        """Answer the next DATA commands (for `to` alone, if given) with these replies, then 250."""
        with self.lock:
            if to is None:
                self.replies.extend(replies)
            else:
                self.replies_to.setdefault(to, deque()).extend(replies)

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [item.message for item in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [item.message for item in self.received if address in item.envelope_to]
