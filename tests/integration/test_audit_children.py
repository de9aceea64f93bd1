"""How the audit's children run beside it: the log child's pipe holds several batches, and the
read-models child yields the CPU to the replay and the log child (see docs/audit.md)."""

from __future__ import annotations

import os
import socket
from multiprocessing.connection import Connection
from pathlib import Path

from infrastructure.audit.children import SOCKET_BUFFER_BYTES, start_child, stop_child
from infrastructure.audit.consistent_read import ViewReader
from infrastructure.audit.snapshots import Snapshot, ViewSnapshots
from infrastructure.bootstrap import build_application
from tests.conftest import SettingsFactory


def echo_once(connection: Connection) -> None:
    """A child that answers one message, then ends."""
    connection.send(connection.recv())


def niceness(reader: ViewReader) -> int:
    """A 'read model reader' that reports how nice its process is."""
    return os.nice(0)


def kernel_cap(name: str) -> int:
    return int(Path(f"/proc/sys/net/core/{name}").read_text())


def test_the_log_childs_pipe_is_asked_to_hold_several_batches() -> None:
    started = start_child(echo_once, (), "test-echo", True, "echo")
    assert started is not None
    process, connection = started
    try:
        with socket.fromfd(connection.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as ours:
            sending = ours.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        # Linux grants at most its cap and reports twice what it granted; a socket nobody
        # widened reports net.core.wmem_default, at most the cap itself.
        assert sending == 2 * min(SOCKET_BUFFER_BYTES, kernel_cap("wmem_max"))
        connection.send("still a working pipe")
        assert connection.recv() == "still a working pipe"
    finally:
        connection.close()
        stop_child(process)


def test_the_read_models_child_runs_at_the_lowest_priority(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    atelier = build_application(settings)
    try:
        head = atelier.recorder.max_notification_id() or 0
        with ViewSnapshots(
            settings, {"dashboard_totals": niceness}, until=head, share=False
        ) as snapshots:
            snapshot = snapshots.take("dashboard_totals")
    finally:
        atelier.close()
    assert isinstance(snapshot, Snapshot)
    assert snapshot.held == 19
