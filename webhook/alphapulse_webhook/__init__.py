"""AlphaPulse's TradingView webhook: authenticated, deduplicated, durably stored alerts and their feed.

``create_app()`` builds the FastAPI app; ``TradingViewAlert`` is the alert schema and
``MESSAGE_TEMPLATE`` the message users paste into TradingView. See ``webhook/README.md``.
"""

from alphapulse_webhook.app import create_app
from alphapulse_webhook.schema import ALERT_SCHEMA, TradingViewAlert, parse_alert, parse_body, validate_alert
from alphapulse_webhook.settings import Settings, get_settings, load_settings
from alphapulse_webhook.template import MESSAGE_TEMPLATE, SECRET_PLACEHOLDER, fill_placeholders

__all__ = [
    "ALERT_SCHEMA",
    "MESSAGE_TEMPLATE",
    "SECRET_PLACEHOLDER",
    "Settings",
    "TradingViewAlert",
    "create_app",
    "fill_placeholders",
    "get_settings",
    "load_settings",
    "parse_alert",
    "parse_body",
    "validate_alert",
]
