"""R3: TradingView's resend pattern and racing resends against a real server: exactly one row."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from alphapulse_webhook import Settings

from .conftest import ServerProcess, alert_message, rows_for, tradingview_values


def test_resends_sequential_and_concurrent_store_one_row(
    make_settings: Callable[..., Settings], start_server: Callable[..., ServerProcess]
) -> None:
    settings = make_settings()
    server = start_server(settings)
    url = f"{server.url}/webhook/tradingview"

    # the same alert 4 times in a row (the first send and TradingView's 3 resends)
    values = tradingview_values()
    message = alert_message(**values)
    with httpx.Client(timeout=10) as client:
        answers = [client.post(url, content=message, headers={"Content-Type": "text/plain"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert [a.json()["status"] for a in answers] == ["stored"] + ["duplicate"] * 3
    assert len(rows_for(settings.database_url, values["ticker"])) == 1

    # the same alert 20 times at once, each from its own connection
    racing = tradingview_values()
    message = alert_message(**racing)
    barrier = threading.Barrier(20)
    statuses: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send() -> None:
        with httpx.Client(timeout=10) as client:
            barrier.wait(timeout=10)
            response = client.post(url, content=message)
        with lock:
            statuses.append((response.status_code, response.json()["status"]))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(statuses) == 20
    assert all(code == 200 for code, _ in statuses)
    assert sorted(status for _, status in statuses) == ["duplicate"] * 19 + ["stored"]
    assert len(rows_for(settings.database_url, racing["ticker"])) == 1
