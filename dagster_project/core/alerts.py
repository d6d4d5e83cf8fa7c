"""Alerts: a structured log line always, and a JSON POST when ``KPI_ALERT_WEBHOOK`` is set.

The webhook URL may hold a secret token: it is read from the environment when an alert is
sent and never written to a log, a message or an exception.
"""

import http.client
import json
import logging
import os
import urllib.error
import urllib.request
from datetime import UTC, datetime

logger = logging.getLogger("kpi.alerts")

WEBHOOK_ENV = "KPI_ALERT_WEBHOOK"
TIMEOUT_S = 10


def send_alert(event: str, message: str, **details: object) -> bool:
    """Log the alert as one JSON line; POST it to the webhook if one is configured.

    Returns whether the webhook accepted it (False when none is configured or it failed:
    an alert must never turn a failed run into a crash).
    """
    payload = {
        "event": event,
        "message": message,
        "at": datetime.now(UTC).isoformat(),
        **details,
    }
    logger.error(json.dumps(payload, default=str, sort_keys=True))
    url = os.environ.get(WEBHOOK_ENV)
    if not url:
        return False
    try:
        request = urllib.request.Request(
            url,
            data=json.dumps(payload, default=str).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return 200 <= response.status < 300
    # OSError covers URLError and timeouts; ValueError and HTTPException a malformed URL and
    # an endpoint that does not answer in HTTP
    except (OSError, ValueError, http.client.HTTPException) as error:
        # the reason only: the URL (and any token in it) stays out of the log
        logger.error(json.dumps({"event": "alert_webhook_failed", "reason": type(error).__name__}))
        return False
