"""Migrations are reversible and keep data: upgrade, downgrade to the start, upgrade again."""

import flask_migrate
import pytest
import sqlalchemy as sa

from leads import create_app
from leads.extensions import db
from tests.conftest import _base_config, _create_postgres_database, _drop_postgres_database, _postgres_url
from tests.factories import receive


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = _create_postgres_database()
    yield _postgres_url(name)
    _drop_postgres_database(name)


@pytest.fixture
def migration_app(empty_database, tmp_path, redis_server):
    app = create_app(_base_config(empty_database, redis_server.url, tmp_path / "instance"))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_the_schema_goes_down_to_nothing_and_back_up(migration_app):
    flask_migrate.upgrade()
    assert {"lead", "message", "lead_event", "audit_entry"} <= tables()

    flask_migrate.downgrade(revision="base")
    assert tables() == set()

    flask_migrate.upgrade()
    assert {"lead", "message", "lead_event", "audit_entry"} <= tables()


def test_a_database_with_data_survives_a_step_down_and_up(migration_app, clock):
    migration_app.config["CLOCK"] = clock
    flask_migrate.upgrade()
    receive(clock())
    db.session.remove()

    flask_migrate.downgrade(revision="0001")
    flask_migrate.upgrade()

    count = db.session.scalar(sa.text("SELECT count(*) FROM lead WHERE erased_at IS NULL"))
    assert count == 1
    assert db.session.scalar(sa.text("SELECT count(*) FROM message")) == 2
