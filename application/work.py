"""Work: a worker claims a generation, runs it through an image generator, records the end."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

from application.circuit import CircuitUseCases
from application.claims import ClaimUseCases
from application.ports import GenerationJob, GeneratorFailure, ImageGenerator, WorkStopped
from application.queries import GenerationRecord
from domain.errors import InvalidRequest, InvalidTransition

logger = logging.getLogger(__name__)

UNEXPECTED_GENERATOR_ERROR = "The image generator failed unexpectedly."
UNUSABLE_RESULTS = "The image generator returned unusable result images."
HEARTBEATS_PER_LEASE = 3


@dataclass(frozen=True)
class WorkOutcome:
    generation_id: UUID
    status: str
    error: str | None
    result_images: list[str]


class WorkUseCases(CircuitUseCases, ClaimUseCases):
    def work_once(
        self, worker_id: str, generator: ImageGenerator, slot: str | None = None
    ) -> WorkOutcome | None:
        """None when nothing was claimed, or the generator's circuit lets this `slot` (one of
        the worker's concurrent runs; the worker itself by default) claim nothing."""
        if not self.may_claim(generator.name, slot or worker_id):
            return None
        claimed = self.claim(worker_id)
        if claimed is None:
            return None
        job = job_of(claimed)
        logger.info(
            "worker %s runs generation %s with %s", worker_id, job.generation_id, generator.name
        )
        gid = job.generation_id
        with self._heartbeats(gid, worker_id) as stopped:
            try:
                results = generator.generate(job, stopped)
            except WorkStopped:
                return self._outcome(lambda: self.fail(gid, worker_id, ""), job, stopped)
            except GeneratorFailure as failure:
                self._note_outcome(generator.name, not failure.upstream)
                reason = " ".join(failure.reason.split())  # a generator's text, on one line
                return self._outcome(lambda: self.fail(gid, worker_id, reason), job, stopped)
            except Exception:
                logger.exception("generator %s raised on generation %s", generator.name, gid)
                return self._outcome(
                    lambda: self.fail(gid, worker_id, UNEXPECTED_GENERATOR_ERROR), job, stopped
                )
        self._note_outcome(generator.name, upstream_healthy=True)
        try:
            return self._outcome(lambda: self.complete(gid, worker_id, results), job, stopped)
        except InvalidRequest as error:
            logger.error("generator %s returned unusable results: %s", generator.name, error)
            return self._outcome(lambda: self.fail(gid, worker_id, UNUSABLE_RESULTS), job, stopped)

    def _note_outcome(self, generator_name: str, upstream_healthy: bool) -> None:
        """The circuit learns the outcome; a store error here never costs the result."""
        try:
            self.record_generator_outcome(generator_name, upstream_healthy)
        except Exception:
            logger.exception("generator %s: its circuit could not be updated", generator_name)

    @contextmanager
    def _heartbeats(self, generation_id: UUID, worker_id: str) -> Iterator[threading.Event]:
        """Extends the lease while the generator runs; the event is set once the generation was
        cancelled or the lease lost, and the work must not be recorded."""
        stopped = threading.Event()
        done = threading.Event()
        interval = self.policy.lease.total_seconds() / HEARTBEATS_PER_LEASE

        def beat() -> None:
            while not done.wait(interval):
                try:
                    answer = self.heartbeat(generation_id, worker_id)
                except InvalidTransition as refused:
                    logger.warning("generation %s: heartbeat refused: %s", generation_id, refused)
                    stopped.set()
                    return
                except Exception:
                    logger.exception("generation %s: heartbeat failed; retrying", generation_id)
                    continue
                if answer.cancelled:
                    logger.info("generation %s was cancelled; its work stops", generation_id)
                    stopped.set()
                    return

        thread = threading.Thread(target=beat, name=f"heartbeat-{generation_id}", daemon=True)
        thread.start()
        try:
            yield stopped
        finally:
            done.set()
            thread.join()

    def _outcome(
        self, end: Callable[[], GenerationRecord], job: GenerationJob, stopped: threading.Event
    ) -> WorkOutcome:
        """Cancelled meanwhile, or the lease lost first: what the generation became instead."""
        try:
            if stopped.is_set():
                raise InvalidTransition("the work was stopped; its result is not recorded")
            generation = end()
        except InvalidTransition as refused:
            logger.warning("generation %s: %s", job.generation_id, refused)
            generation = GenerationRecord.of(self.load_generation(job.generation_id), None)
        return WorkOutcome(
            generation_id=generation.generation_id,
            status=generation.status,
            error=generation.error,
            result_images=list(generation.result_images),
        )


def job_of(generation: GenerationRecord) -> GenerationJob:
    if generation.lease_expires_at is None:
        raise InvalidTransition("Only a claimed generation can be run.")
    return GenerationJob(
        generation_id=generation.generation_id,
        user_id=generation.user_id,
        prompt=generation.prompt,
        product_images=tuple(generation.product_images),
        model_images=tuple(generation.model_images),
        style=generation.style,
        aspect_ratio=generation.aspect_ratio,
        quality=generation.quality,
        model=generation.model,
        parameters=dict(generation.parameters),
        lease_expires_at=generation.lease_expires_at,
    )
