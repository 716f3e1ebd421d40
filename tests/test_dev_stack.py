"""The README's first command, as a newcomer runs it: `python -m leads.dev` (what scripts/run starts)."""

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from leads.config import PROJECT_ROOT
from tests.conftest import free_port
from tests.factories import form_data
from tests.processes import wait_for

pytestmark = pytest.mark.integration

UNSET = ("DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT", "PUBLIC_BASE_URL")


def fetch(url: str, data: dict | None = None) -> str:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=10) as response:
        return response.read().decode()


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def processes_of(instance: Path) -> list[int]:
    """Pids of live processes started for this instance folder (they carry it in their environment)."""
    marker = f"LEADS_INSTANCE_PATH={instance}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.fixture
def stack(tmp_path):
    ports = {name: free_port() for name in ("web", "redis", "smtp", "mail")}
    instance = tmp_path / "instance"
    env = {key: value for key, value in os.environ.items() if key not in UNSET and not key.startswith("PYTEST")}
    env.update(
        LEADS_INSTANCE_PATH=str(instance),
        PORT=str(ports["web"]),
        LEADS_DEV_REDIS_PORT=str(ports["redis"]),
        LEADS_DEV_SMTP_PORT=str(ports["smtp"]),
        LEADS_DEV_MAIL_PORT=str(ports["mail"]),
        MIN_FILL_TIME="0s",
        DISPATCH_INTERVAL="0.5s",
    )
    log_path = tmp_path / "stack.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "leads.dev"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for(
            lambda: "leads is running" in log_path.read_text() or process.poll() is not None,
            timeout=90,
            message="the stack to start",
        )
        assert process.poll() is None, log_path.read_text()
        wait_for(lambda: answers(ports["web"]), timeout=30, message="gunicorn")
        yield process, ports, instance, log_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def test_one_command_runs_the_system_and_ctrl_c_stops_it(stack):
    process, ports, instance, log_path = stack
    banner = log_path.read_text()
    web = f"http://127.0.0.1:{ports['web']}"
    assert f"{web}/inquire" in banner
    assert f"{web}/dashboard" in banner
    assert f"http://127.0.0.1:{ports['mail']}/" in banner
    assert (instance / "leads.sqlite3").exists()

    page = fetch(f"{web}/inquire")
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    thanks = fetch(f"{web}/inquire", form_data(form_token=token))
    assert "Thank you" in thanks

    mail_view = f"http://127.0.0.1:{ports['mail']}/"
    wait_for(lambda: "Caught mail (2)" in fetch(mail_view), timeout=60, message="both emails in the mail view")
    inbox = fetch(mail_view)
    assert "We received your message, Dana" in inbox
    assert "New inquiry from Dana" in inbox
    first = re.search(r'href="(/messages/[^"]+)"', inbox).group(1)
    assert "Text part" in fetch(mail_view.rstrip("/") + first)

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    for name, port in ports.items():
        assert not answers(port), f"{name} still answers on {port}"
    assert processes_of(instance) == []
