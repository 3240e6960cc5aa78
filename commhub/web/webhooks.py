"""POST /webhooks/sendgrid: SendGrid's Event Webhook, authorised by its signature alone.

The raw body is verified before it is parsed; a bad or missing signature, or a timestamp
outside the window, gets a 403 and nothing is stored. A good batch is stored and committed
before the 2xx, so SendGrid retries anything not recorded.
"""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, Flask, current_app, jsonify
from flask import request as flask_request
from flask.typing import ResponseReturnValue

from commhub.delivery import installation_id
from commhub.errors import SettingsError
from commhub.store import quick_write, session_scope
from commhub.tracking import WebhookKeyError, WebhookVerifier, record_events
from commhub.web.runtime import runtime

blueprint = Blueprint("webhooks", __name__)
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
_VERIFIER = "commhub.sendgrid_webhook"


def init_app(app: Flask) -> None:
    """Check the webhook's key at start: a bad one stops the app with a clear message."""
    settings = app.extensions["commhub"].settings
    if settings.sendgrid_webhook_public_key is None:
        return
    try:
        verifier = WebhookVerifier(
            settings.sendgrid_webhook_public_key,
            timedelta(seconds=settings.sendgrid_webhook_window),
        )
    except WebhookKeyError as exc:
        raise SettingsError("COMMHUB_SENDGRID_WEBHOOK_PUBLIC_KEY", str(exc)) from None
    app.extensions[_VERIFIER] = verifier
    app.register_blueprint(blueprint)


@blueprint.post("/webhooks/sendgrid")
def sendgrid_events() -> ResponseReturnValue:
    verifier: WebhookVerifier = current_app.extensions[_VERIFIER]
    rt = runtime()
    now = rt.clock.now()
    body = flask_request.get_data(cache=False)
    signature = flask_request.headers.get(SIGNATURE_HEADER)
    timestamp = flask_request.headers.get(TIMESTAMP_HEADER)
    if not verifier.verify(body, signature, timestamp, now):
        return jsonify(title="signature not valid", status=403), 403
    try:
        events = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python goes
        return jsonify(title="body is not JSON", status=400), 400
    if not isinstance(events, list):
        return jsonify(title="body is not a JSON array of events", status=400), 400
    installation = installation_id(rt.settings.secret_key)
    with session_scope(rt.sessions) as session, quick_write(session):
        report = record_events(session, events, installation, now)
        session.commit()  # stored durably before the 2xx, and before the next writer's turn
    return jsonify(
        stored=report.stored,
        duplicates=report.duplicates,
        ignored=dict(report.ignored),
        resolved=report.resolved,
        failed=report.failed,
        suppressed=report.suppressed,
    )
