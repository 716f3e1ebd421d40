"""The clinic's automation settings, read once from the app config into one typed object."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from leads.durations import parse_duration, parse_durations


@dataclass(frozen=True)
class Policy:
    followup_schedule: list[timedelta]
    reminder_offsets: list[timedelta]
    unresponsive_after: timedelta
    deduplication_window: timedelta
    default_duration_minutes: int = 30

    @classmethod
    def from_config(cls, config) -> "Policy":
        return cls(
            followup_schedule=parse_durations(config["FOLLOWUP_SCHEDULE"]),
            reminder_offsets=sorted(parse_durations(config["REMINDER_OFFSETS"]), reverse=True),
            unresponsive_after=parse_duration(config["UNRESPONSIVE_AFTER"]),
            deduplication_window=parse_duration(config["DEDUPLICATION_WINDOW"]),
        )


def current() -> Policy:
    """Return the policy of the running app (parsed on first use; settings are fixed per app)."""
    policy = current_app.extensions.get("leads_policy")
    if policy is None:
        policy = current_app.extensions["leads_policy"] = Policy.from_config(current_app.config)
    return policy
