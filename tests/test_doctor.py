"""`flask --app leads doctor` says plainly what works and what does not."""

from datetime import timedelta

from leads.extensions import db
from leads.models import SweepHeartbeat


def beat_swept(at) -> None:
    db.session.merge(SweepHeartbeat(id=1, swept_at=at, sweeps=1))
    db.session.commit()


def lines_of(result) -> dict[str, str]:
    return {line.split()[1]: line for line in result.output.splitlines() if line[:3] in ("ok ", "BAD")}


def test_a_healthy_system_passes_every_check(clocked_app, clock, smtp_sink):
    beat_swept(clock() - timedelta(seconds=1))

    result = clocked_app.test_cli_runner().invoke(args=["doctor"])

    assert result.exit_code == 0, result.output
    assert set(lines_of(result)) == {"database", "migrations", "redis", "smtp", "beat"}
    assert all(line.startswith("ok ") for line in lines_of(result).values())


def test_a_silent_beat_is_reported(clocked_app, clock, smtp_sink):
    beat_swept(clock() - timedelta(minutes=10))

    result = clocked_app.test_cli_runner().invoke(args=["doctor"])

    assert result.exit_code == 1
    assert "beat or every worker is down" in lines_of(result)["beat"]


def test_a_missing_sweep_is_reported(clocked_app, smtp_sink):
    result = clocked_app.test_cli_runner().invoke(args=["doctor"])

    assert "no sweep has ever run" in lines_of(result)["beat"]


def test_redis_and_smtp_that_do_not_answer_are_reported(make_app):
    app = make_app(REDIS_URL="redis://:secret@127.0.0.1:1/0", MAIL_PORT=1)

    result = app.test_cli_runner().invoke(args=["doctor"])

    lines = lines_of(result)
    assert lines["redis"].startswith("BAD") and "secret" not in lines["redis"]
    assert lines["smtp"].startswith("BAD") and "127.0.0.1:1" in lines["smtp"]


def test_an_unmigrated_database_is_reported(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    result = app.test_cli_runner().invoke(args=["doctor"])

    assert "run `flask --app leads db upgrade`" in lines_of(result)["migrations"]
