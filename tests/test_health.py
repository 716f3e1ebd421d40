"""Liveness and readiness probes."""

CLOSED_REDIS = "redis://127.0.0.1:1/0"
CLOSED_POSTGRES = "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=1"


def test_healthz_is_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_database_and_broker_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_when_broker_is_down(make_app):
    response = make_app(REDIS_URL=CLOSED_REDIS).test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "broker": "down"}


def test_readyz_is_503_when_database_is_down(make_app):
    response = make_app(SQLALCHEMY_DATABASE_URI=CLOSED_POSTGRES).test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"] == {"database": "down", "broker": "ok"}


def test_healthz_is_ok_when_broker_is_down(make_app):
    response = make_app(REDIS_URL=CLOSED_REDIS).test_client().get("/healthz")

    assert response.status_code == 200
