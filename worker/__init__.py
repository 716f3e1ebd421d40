"""The Celery app for `celery -A worker worker|beat`: the Flask app's own, with its tasks registered."""

from leads import create_app
from worker import tasks  # noqa: F401  (registers the tasks on the shared Celery app)

flask_app = create_app()
celery = flask_app.extensions["celery"]
