"""A local mail catcher: an SMTP server that keeps every message, and a web page to read them.

Run: python -m leads.dev.mailcatcher --smtp-port 1025 --http-port 8025 --dir instance/mail
"""

import argparse
import email
import email.policy
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from flask import Flask, abort, render_template_string
from werkzeug.serving import run_simple


class MaildirHandler:
    """aiosmtpd handler that writes each accepted message to a file of its own."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        name = f"{time.time_ns()}-{self.count:06d}.eml"
        (self.directory / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def read_messages(directory: Path) -> list[tuple[str, EmailMessage]]:
    """Return (file name, parsed message) pairs, newest first."""
    return [
        (path.name, email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        for path in sorted(directory.glob("*.eml"), reverse=True)
    ]


INBOX_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Caught mail</title>
<meta http-equiv="refresh" content="5">
<style>body{font:16px system-ui,sans-serif;margin:2rem;color:#1f2d3d}table{border-collapse:collapse;width:100%}
td,th{padding:.5rem;border-bottom:1px solid #dde;text-align:left}a{color:#0b6e79}</style></head><body>
<h1>Caught mail ({{ messages|length }})</h1><p>Every email the local system sends lands here; nothing leaves this machine.</p>
<table><tr><th>Received</th><th>To</th><th>Subject</th></tr>
{% for name, msg in messages %}<tr><td>{{ msg['Date'] }}</td><td>{{ msg['To'] }}</td>
<td><a href="/messages/{{ name }}">{{ msg['Subject'] }}</a></td></tr>{% else %}
<tr><td colspan="3">No mail yet. Submit the inquiry form and wait a few seconds.</td></tr>{% endfor %}</table></body></html>"""

MESSAGE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ msg['Subject'] }}</title>
<style>body{font:16px system-ui,sans-serif;margin:2rem;color:#1f2d3d}pre{white-space:pre-wrap;background:#f5f7fa;padding:1rem}
iframe{width:100%;height:70vh;border:1px solid #dde}dt{font-weight:600}a{color:#0b6e79}</style></head><body>
<p><a href="/">&larr; All mail</a></p><h1>{{ msg['Subject'] }}</h1><dl>
{% for header in ['From', 'To', 'Reply-To', 'Date', 'Message-ID', 'List-Unsubscribe'] if msg[header] %}
<dt>{{ header }}</dt><dd>{{ msg[header] }}</dd>{% endfor %}</dl>
{% if html %}<h2>HTML part</h2><iframe sandbox src="/messages/{{ name }}/html"></iframe>{% endif %}
<h2>Text part</h2><pre>{{ text }}</pre>
{% if attachments %}<h2>Attachments</h2><ul>{% for a in attachments %}<li>{{ a }}</li>{% endfor %}</ul>{% endif %}
</body></html>"""


def create_viewer(directory: Path) -> Flask:
    """Return the small web app that lists and shows the caught messages."""
    viewer = Flask(__name__)

    def load(name: str) -> EmailMessage:
        path = directory / name
        if path.parent != directory or not path.is_file():
            abort(404)
        return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)

    @viewer.get("/")
    def inbox():
        return render_template_string(INBOX_PAGE, messages=read_messages(directory))

    @viewer.get("/messages/<name>")
    def show(name: str):
        msg = load(name)
        text, html = msg.get_body(("plain",)), msg.get_body(("html",))
        attachments = [part.get_filename() or part.get_content_type() for part in msg.iter_attachments()]
        return render_template_string(
            MESSAGE_PAGE,
            name=name,
            msg=msg,
            text=text.get_content() if text else "",
            html=html is not None,
            attachments=attachments,
        )

    @viewer.get("/messages/<name>/html")
    def show_html(name: str):
        html = load(name).get_body(("html",))
        if html is None:
            abort(404)
        return html.get_content(), 200, {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}

    return viewer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("instance/mail"))
    args = parser.parse_args()
    directory = args.dir.resolve()
    controller = Controller(MaildirHandler(directory), hostname="127.0.0.1", port=args.smtp_port)
    controller.start()
    try:
        run_simple("127.0.0.1", args.http_port, create_viewer(directory), threaded=True)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
