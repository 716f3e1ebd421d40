"""The dashboard's blueprint; its modules (leads pages, account pages, admin pages) attach routes to it."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
