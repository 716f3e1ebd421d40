"""`flask --app leads …` commands: coordinators, API tokens and clinics."""

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from leads import accounts, audit, backups, clock, doctor
from leads.clinics import SLUG_PATTERN, ensure_default_clinic
from leads.contact import normalise_email
from leads.extensions import db
from leads.models import Clinic, Coordinator, Role

coordinators = AppGroup("coordinators", help="Manage coordinator accounts.")
tokens = AppGroup("tokens", help="Manage API tokens.")
clinics = AppGroup("clinics", help="Manage clinics (locations).")


def init_app(app: Flask) -> None:
    app.cli.add_command(coordinators)
    app.cli.add_command(tokens)
    app.cli.add_command(clinics)
    app.cli.add_command(doctor_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check the database, migrations, Redis, SMTP and beat; say what is wrong."""
    findings = doctor.examine()
    for finding in findings:
        click.echo(f"{'ok ' if finding.ok else 'BAD'}  {finding.name:<10} {finding.detail}")
    if not all(finding.ok for finding in findings):
        raise click.exceptions.Exit(1)


@coordinators.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 12 characters.")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.COORDINATOR.value)
@click.option("--clinic", "clinic_slug", default=None, help="Limit the account to one clinic.")
def create_coordinator(email: str, password: str, role: str, clinic_slug: str | None) -> None:
    """Create a coordinator account."""
    clinic = None
    if clinic_slug:
        clinic = db.session.scalar(sa.select(Clinic).where(Clinic.slug == clinic_slug))
        if clinic is None:
            raise click.ClickException(f"There is no clinic with slug {clinic_slug!r}.")
    try:
        coordinator = accounts.create_coordinator(
            db.session, email=email, password=password, role=Role(role), clinic=clinic
        )
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    audit.record(db.session, None, "coordinator_created", clock.now(), target=coordinator.email, role=role, via="cli")
    db.session.commit()
    click.echo(f"Created {coordinator.role.value} {coordinator.email}.")


@coordinators.command("deactivate")
@click.option("--email", required=True)
def deactivate_coordinator(email: str) -> None:
    """Deactivate an account: signed out at once, its API tokens refused."""
    coordinator = _coordinator(email)
    accounts.set_active(db.session, coordinator, False, clock.now(), actor=None, via="cli")
    db.session.commit()
    click.echo(f"Deactivated {coordinator.email}.")


@coordinators.command("reset-password")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 12 characters, not a common password.")
def reset_password(email: str, password: str) -> None:
    """Set a new password for an account (and re-activate nothing)."""
    coordinator = _coordinator(email)
    try:
        accounts.reset_password(db.session, coordinator, password, clock.now(), actor=None, via="cli")
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Set a new password for {coordinator.email}.")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Write a consistent copy of the database to TARGET (safe while the app runs)."""
    try:
        backups.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], target)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up to {target}.")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask; the current data is replaced.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database's contents with the backup SOURCE (stop web, worker and beat first)."""
    if not yes:
        click.confirm("This replaces every lead and message with the backup's. Go on?", abort=True)
    db.engine.dispose()
    try:
        backups.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored from {source}.")


def _coordinator(email: str) -> Coordinator:
    coordinator = accounts.find_coordinator(db.session, email)
    if coordinator is None:
        raise click.ClickException(f"There is no coordinator {email}.")
    return coordinator


@tokens.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="What the token is for.")
def create_token(email: str, name: str) -> None:
    """Create an API token; it is shown once, on the last line."""
    coordinator = db.session.scalar(sa.select(Coordinator).where(Coordinator.email == _address(email)))
    if coordinator is None or not coordinator.active:
        raise click.ClickException(f"There is no active coordinator {email}.")
    token = accounts.create_api_token(db.session, coordinator, name)
    db.session.commit()
    click.echo("Store this token now; it cannot be shown again:")
    click.echo(token)


@clinics.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--timezone", required=True, help="An IANA zone such as America/Chicago.")
@click.option("--inbox", default=None, help="Where new-lead alerts go (default: CLINIC_INBOX).")
@click.option("--phone", default="")
@click.option("--address", default="")
def create_clinic(slug: str, name: str, timezone: str, inbox: str | None, phone: str, address: str) -> None:
    """Add a clinic (location)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.ClickException(f"{timezone!r} is not an IANA timezone.") from None
    if not SLUG_PATTERN.fullmatch(slug):
        raise click.ClickException("A slug is lower-case letters, digits and hyphens, such as north-side.")
    ensure_default_clinic(db.session, current_app.config)
    if db.session.scalar(sa.select(Clinic.id).where(Clinic.slug == slug)) is not None:
        raise click.ClickException(f"A clinic with slug {slug!r} exists already.")
    db.session.add(
        Clinic(
            slug=slug,
            name=name,
            timezone=timezone,
            inbox=_address(inbox) if inbox else current_app.config["CLINIC_INBOX"],
            phone=phone,
            address=address,
            business_hours=current_app.config["BUSINESS_HOURS"],
        )
    )
    db.session.commit()
    click.echo(f"Created clinic {slug}: its form is at /inquire?clinic={slug}")


def _address(email: str) -> str:
    try:
        return normalise_email(email)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
