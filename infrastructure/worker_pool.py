"""N generations at once in one worker process: one thread per slot, each claiming and running
its own, until told to stop; then each finishes what it holds and claims no more."""

from __future__ import annotations

import threading
from collections.abc import Callable

from application.ports import ImageGenerator
from application.service import Atelier
from application.work import WorkOutcome
from infrastructure.background import Backoff


def run_slots(
    atelier: Atelier,
    worker_id: str,
    generator: ImageGenerator,
    concurrency: int,
    poll_seconds: float,
    stopping: threading.Event,
    on_outcome: Callable[[WorkOutcome], None],
) -> None:
    """Returns once `stopping` is set and every slot has recorded the generation it held."""

    def slot(number: int) -> None:
        holder = f"{worker_id}#{number}"  # who takes the circuit's half-open trial
        backoff = Backoff(f"worker {holder}", poll_seconds)  # logs once failing, once recovered
        while not stopping.is_set():
            try:
                outcome = atelier.work_once(worker_id, generator, holder)
            except Exception as error:
                stopping.wait(backoff.failed(error))  # capped, jittered, while the store is down
                continue
            backoff.succeeded()
            if outcome is None:
                stopping.wait(poll_seconds)
            else:
                on_outcome(outcome)

    threads = [
        threading.Thread(target=slot, args=(n,), name=f"worker-slot-{n}", daemon=True)
        for n in range(1, concurrency + 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
