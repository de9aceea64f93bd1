"""A claimer process for the contention tests, in a module that imports little (spawned
processes import it afresh, eight at a time)."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier
from typing import Any

from application.service import Atelier
from infrastructure.bootstrap import background_services, build_application
from infrastructure.settings import Settings


def claim_until_empty(atelier: Atelier, worker_id: str) -> list[str]:
    claimed = []
    while (details := atelier.claim(worker_id)) is not None:
        claimed.append(str(details.generation_id))
    return claimed


def claimer_process(settings: Settings, worker_id: str, barrier: Barrier, results: Any) -> None:
    """One process, wired as `atelier worker` wires itself (minus the sweeper); it reports
    (worker id, ids it claimed, error or None) on `results`."""
    atelier = build_application(settings, create_tables=False)
    services = [s for s in background_services(settings, atelier) if s.name != "sweeper"]
    for service in services:
        service.start()
    try:
        barrier.wait(timeout=60)
        results.put((worker_id, claim_until_empty(atelier, worker_id), None))
    except Exception as error:
        results.put((worker_id, [], repr(error)))
    finally:
        for service in reversed(services):
            service.stop()
        atelier.close()
