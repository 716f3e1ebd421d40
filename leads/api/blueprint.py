"""The API's blueprint; its modules (public inquiries, coordinator endpoints) attach routes to it."""

from flask import Blueprint

bp = Blueprint("api", __name__)
