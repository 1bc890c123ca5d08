"""One process owns a spool folder: a second webhook process on the same folder is refused at
start-up (it could seal and delete a file the first still appends to), and the folder is free
again once the owner closes its spool or dies, even killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alphapulse_webhook.spool import CURRENT, Spool, SpoolError, read_records

from .test_durability import record
from .test_settings import STRONG

HOLD = textwrap.dedent("""
    import sys, time
    from alphapulse_webhook.spool import Spool
    spool = Spool(sys.argv[1])
    print("ready", flush=True)
    time.sleep(120)
""")


def test_a_second_spool_on_the_folder_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    first = Spool(tmp_path)
    with pytest.raises(SpoolError, match=rf"in use by another webhook process \(pid {os.getpid()}\)"):
        Spool(tmp_path)
    first.append(record())
    first.close()
    second = Spool(tmp_path)  # free again; the first's alert was sealed for replay
    assert second.pending == 1
    with pytest.raises(SpoolError, match="in use by another webhook process"):
        first.append(record())  # an append would take the folder back: refused, nothing written
    assert not (tmp_path / CURRENT).exists() and second.pending == 1
    second.close()
    first.append(record())
    first.close()
    assert len(read_records(tmp_path / CURRENT)) == 1


def test_a_killed_owner_leaves_no_stale_lock(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(SpoolError, match=rf"\(pid {holder.pid}\)"):
            Spool(folder)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        Spool(folder).close()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_cli_serve_refuses_a_spool_folder_another_process_owns(tmp_path: Path) -> None:
    owner = Spool(tmp_path / "spool")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPULSE_")}
    env.update({"ALPHAPULSE_WEBHOOK_SECRET": STRONG, "ALPHAPULSE_FEED_TOKEN": STRONG + "-feed",
                "ALPHAPULSE_SPOOL_DIR": str(tmp_path / "spool")})
    result = subprocess.run([sys.executable, "-m", "alphapulse_tools.cli", "webhook", "serve", "--port", "1"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    owner.close()
    assert result.returncode == 1
    assert "in use by another webhook process" in result.stderr and "Traceback" not in result.stderr
