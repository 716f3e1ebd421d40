"""A coordinator's own account: API tokens, each shown once when made, revocable, every change audited."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from leads import accounts, audit, clock
from leads.clinics import home_timezone
from leads.dashboard.admin_forms import ActionForm, TokenForm
from leads.dashboard.blueprint import bp
from leads.extensions import db
from leads.models import ApiToken


@bp.app_template_filter("local_stamp")
def local_stamp(moment: datetime | None, zone: str) -> Markup:
    """A UTC time as a short `<time>` in the timezone `zone`, or a dash when there is none."""
    if moment is None:
        return Markup('<span class="muted">—</span>')
    local = moment.astimezone(ZoneInfo(zone))
    return Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), f"{local:%Y-%m-%d %H:%M %Z}")


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def account_tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        name = form.name.data.strip()
        new_token = accounts.create_api_token(db.session, current_user, name)
        audit.record(db.session, current_user, "api_token_created", clock.now(), token_name=name)
        db.session.commit()
        # Shown in this response only: never in a URL, a flash (the session cookie) or the database.
        form = TokenForm(formdata=None)
    return render_template(
        "dashboard/account_tokens.html",
        form=form,
        tokens=accounts.tokens_of(db.session, current_user),
        new_token=new_token,
        zone=home_timezone(current_user),
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    now = clock.now()
    if accounts.revoke_api_token(db.session, current_user, token_id, now):
        name = db.session.get(ApiToken, token_id).name
        audit.record(db.session, current_user, "api_token_revoked", now, token_name=name)
        db.session.commit()
        label = f"the token “{name}”" if name else "the unnamed token"
        flash(f"Revoked {label}. Programs using it are refused from now on.", "success")
    else:
        flash("That token is already revoked, or it is not one of yours.", "error")
    return redirect(url_for("dashboard.account_tokens"))
