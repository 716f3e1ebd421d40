"""`flask --app leads backup` and `restore`: a copy taken while running brings the data back."""

import sqlalchemy as sa

from leads.extensions import db
from leads.models import Lead, Message
from tests.factories import receive


def counts() -> tuple[int, int]:
    return db.session.scalar(sa.select(sa.func.count(Lead.id))), db.session.scalar(sa.select(sa.func.count(Message.id)))


def test_a_backup_restores_the_data_it_was_taken_with(clocked_app, clock, tmp_path):
    runner = clocked_app.test_cli_runner()
    receive(clock())
    target = tmp_path / "leads.backup"

    taken = runner.invoke(args=["backup", str(target)])
    assert taken.exit_code == 0, taken.output
    receive(clock(), email="after.the.backup@example.org")
    assert counts() == (2, 4)
    db.session.remove()

    restored = runner.invoke(args=["restore", "--yes", str(target)])

    assert restored.exit_code == 0, restored.output
    assert counts() == (1, 2)


def test_restore_refuses_a_missing_file(clocked_app, tmp_path):
    result = clocked_app.test_cli_runner().invoke(args=["restore", "--yes", str(tmp_path / "nothing.backup")])

    assert result.exit_code != 0
    assert "There is no backup" in result.output
