"""The alert message users paste into TradingView's alert dialog, and how TradingView fills it.

TradingView replaces each ``{{placeholder}}`` with text before sending; the result must be valid
JSON for the webhook to accept it (a comment containing a double quote breaks the JSON and the
alert is answered 400). Replace :data:`SECRET_PLACEHOLDER` with the webhook's secret
(``ALPHAPULSE_WEBHOOK_SECRET``) when pasting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Written into the template where the user's webhook secret goes.
SECRET_PLACEHOLDER = "YOUR_WEBHOOK_SECRET"

#: The message for a TradingView *strategy* alert (one line; paste it into the alert's "Message").
MESSAGE_TEMPLATE = (
    '{"schema": "alphapulse.alert/1", "secret": "' + SECRET_PLACEHOLDER + '", '
    '"ticker": "{{ticker}}", "exchange": "{{exchange}}", "interval": "{{interval}}", '
    '"action": "{{strategy.order.action}}", "price": {{strategy.order.price}}, "time": "{{time}}", '
    '"contracts": {{strategy.order.contracts}}, "position_size": {{strategy.position_size}}, '
    '"order_id": "{{strategy.order.id}}", "strategy": "AlphaPulse", '
    '"comment": "{{strategy.order.comment}}"}'
)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


def fill_placeholders(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{{name}}`` placeholders the way TradingView does (plain text substitution).

    ``values`` maps placeholder names (``"ticker"``, ``"strategy.order.price"``, ...) to the text
    TradingView would insert. A placeholder without a value is left as it is, like TradingView
    leaves unknown placeholders.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in values else match.group(0)

    return _PLACEHOLDER.sub(substitute, template)


def placeholders(template: str = MESSAGE_TEMPLATE) -> list[str]:
    """The placeholder names used in ``template``, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(template):
        seen.setdefault(match.group(1), None)
    return list(seen)
