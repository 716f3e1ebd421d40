"""Start the whole system locally: Redis, mail catcher, migrations, web, worker and beat.

Run: python -m leads.dev   (scripts/run does this after installing). Ctrl-C stops everything.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from leads.config import DEFAULT_INSTANCE, PROJECT_ROOT
from leads.dev import embedded_redis
from leads.queue import WORKER_FLAGS

WEB_PORT = int(os.environ.get("PORT", "5000"))
REDIS_PORT = int(os.environ.get("LEADS_DEV_REDIS_PORT", "6390"))
SMTP_PORT = int(os.environ.get("LEADS_DEV_SMTP_PORT", "1025"))
MAIL_VIEW_PORT = int(os.environ.get("LEADS_DEV_MAIL_PORT", "8025"))
DEV_ADMIN_EMAIL = "admin@clinic.example"


class Stack:
    """The child processes, each in a session of its own so that only this process gets Ctrl-C."""

    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def add(self, name: str, process: subprocess.Popen) -> None:
        self.processes.append((name, process))

    def start(self, name: str, *command: str) -> None:
        self.add(name, subprocess.Popen(command, cwd=PROJECT_ROOT, start_new_session=True))

    def wait_for_first_exit(self) -> str:
        while True:
            for name, process in self.processes:
                if process.poll() is not None:
                    return name
            time.sleep(0.5)

    def stop(self) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, process in reversed(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", flush=True)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "leads", *args]


def ensure_dev_admin(instance: Path) -> str:
    """Create a local admin account on first start; return its password (kept in the instance folder)."""
    password_file = instance / "dev-admin-password.txt"
    if not password_file.exists():
        password = secrets.token_urlsafe(12)
        subprocess.run(
            flask("coordinators", "create", "--email", DEV_ADMIN_EMAIL, "--password", password, "--role", "admin"),
            cwd=PROJECT_ROOT,
            check=True,
        )
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    return password_file.read_text().strip()


def _stop_like_ctrl_c(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    instance = Path(os.environ.setdefault("LEADS_INSTANCE_PATH", str(DEFAULT_INSTANCE)))
    instance.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{WEB_PORT}")
    os.environ.setdefault("DISPATCH_INTERVAL", "2s")
    stack = Stack()
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        if not os.environ.get("REDIS_URL"):
            stack.add("redis", embedded_redis.start(REDIS_PORT, instance / "redis"))
            os.environ["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
        mail_view = "(your MAIL_SERVER)"
        if not os.environ.get("MAIL_SERVER"):
            stack.start(
                "mailcatcher",
                sys.executable,
                "-m",
                "leads.dev.mailcatcher",
                "--smtp-port",
                str(SMTP_PORT),
                "--http-port",
                str(MAIL_VIEW_PORT),
                "--dir",
                str(instance / "mail"),
            )
            os.environ["MAIL_SERVER"], os.environ["MAIL_PORT"] = "127.0.0.1", str(SMTP_PORT)
            mail_view = f"http://127.0.0.1:{MAIL_VIEW_PORT}/"
        subprocess.run(flask("db", "upgrade"), cwd=PROJECT_ROOT, check=True)
        admin_password = ensure_dev_admin(instance)
        stack.start(
            "web",
            sys.executable,
            "-m",
            "gunicorn",
            "leads:create_app()",
            "--bind",
            f"127.0.0.1:{WEB_PORT}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
        )
        stack.start(
            "worker",
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            *WORKER_FLAGS,
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
        )
        stack.start(
            "beat",
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(instance / "celerybeat-schedule"),
        )
        base = os.environ["PUBLIC_BASE_URL"]
        print(
            "\n".join(
                [
                    "",
                    "leads is running. Ctrl-C stops every process.",
                    f"  Inquiry form:  {base}/inquire",
                    f"  Dashboard:     {base}/dashboard   (sign in as {DEV_ADMIN_EMAIL} / {admin_password})",
                    f"  Caught mail:   {mail_view}",
                    f"  Database:      {os.environ.get('DATABASE_URL') or instance / 'leads.sqlite3'}",
                    "",
                ]
            ),
            flush=True,
        )
        exited = stack.wait_for_first_exit()
        print(f"{exited} stopped; stopping the rest.", flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
