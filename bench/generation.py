"""Generations completed per second by one worker at several concurrencies, with fakes of OpenAI
and Cloudinary that answer at once, beside the claim/complete round-trip ceiling.

    python -m bench.generation [--store sqlite|postgres] [--pending 200] [--concurrency 1 4 16]

For each concurrency N: P generations are submitted, then `run_slots` (what `atelier worker
--concurrency N` runs) works until all P are completed, each through the real OpenAI adapter:
two downloads from the fake Cloudinary, one multipart image edit at the fake OpenAI, one signed
upload, the circuit's read, the completion. The fakes run in a process of their own so they do
not share this one's interpreter. The ceiling, measured in the same run: N threads that only
claim and complete (no generator at all), the store's round trip for one generation.
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection

from application.ports import ImageGenerator
from application.service import Atelier
from application.work import WorkOutcome
from bench.lifecycle import USERS, in_threads, store
from domain.requests import GenerationRequest
from infrastructure.bootstrap import background_services, build_application
from infrastructure.generators import build_generator
from infrastructure.settings import load_settings
from infrastructure.worker_pool import run_slots
from tests.support.builders import generation_request
from tests.support.fake_cloudinary import FakeCloudinary
from tests.support.fake_openai import API_KEY, FakeOpenAI, images
from tests.support.png import png


def serve_fakes(connection: Connection) -> None:
    """Both fakes, answering every request at once, until told to stop."""
    openai_fake, cloudinary = FakeOpenAI(), FakeCloudinary()
    openai_fake.otherwise = images(png(64, 64))
    with openai_fake.running(), cloudinary.running():
        photo = cloudinary.host("v1/bench/product.png", png(32, 32))
        model = cloudinary.host("v1/bench/model.png", png(32, 48))
        connection.send(
            (openai_fake.base_url, cloudinary.cloudinary_url, cloudinary.origin, photo, model)
        )
        connection.recv()


def fill(atelier: Atelier, request: GenerationRequest, count: int) -> None:
    for n in range(count):
        atelier.submit_generation(USERS[n % len(USERS)], request)


def with_generator(
    atelier: Atelier,
    request: GenerationRequest,
    pending: int,
    concurrency: int,
    generator: ImageGenerator,
) -> float:
    """Completed per second: P pending, run by `run_slots` until all are completed."""
    fill(atelier, request, pending)
    done = 0
    lock = threading.Lock()
    stopping = threading.Event()

    def counted(outcome: WorkOutcome) -> None:
        nonlocal done
        assert outcome.status == "completed", outcome
        with lock:
            done += 1
            if done == pending:
                stopping.set()

    started = time.perf_counter()
    run_slots(atelier, "bench", generator, concurrency, 0.01, stopping, counted)
    return pending / (time.perf_counter() - started)


def round_trip(atelier: Atelier, request: GenerationRequest, pending: int, threads: int) -> float:
    """Claims and completions per second by `threads` threads with no generator at all."""
    fill(atelier, request, pending)

    def work(index: int) -> None:
        while (claimed := atelier.claim(f"ceiling-{index}")) is not None:
            gid = claimed.generation_id
            atelier.complete(gid, f"ceiling-{index}", [f"https://cdn.example.com/{gid}.png"])

    return pending / in_threads(threads, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pending", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    fakes = multiprocessing.Process(target=serve_fakes, args=(theirs,), daemon=True)
    fakes.start()
    openai_url, cloudinary_url, origin, photo, model = ours.recv()
    request = generation_request(product_images=(photo,), model_images=(model,))
    with store(args.store) as settings:
        generator = build_generator(
            load_settings(
                generator="openai",
                openai_api_key=API_KEY,
                openai_base_url=openai_url,
                cloudinary_url=cloudinary_url,
                cloudinary_delivery_url=origin,
            )
        )
        atelier = build_application(settings)
        services = [s for s in background_services(settings, atelier) if s.name != "sweeper"]
        for service in services:
            service.start()
        try:
            for user in USERS:
                atelier.open_account(user, 1_000_000)
            print(f"store={args.store} pending={args.pending} (2 shared cores: figures vary)")
            for concurrency in args.concurrency:
                rate = with_generator(atelier, request, args.pending, concurrency, generator)
                ceiling = round_trip(atelier, request, args.pending, concurrency)
                print(
                    f"concurrency={concurrency:2d}  completed/s={rate:6.1f}  "
                    f"ceiling (claim+complete, {concurrency} threads)={ceiling:6.1f}/s  "
                    f"{rate / ceiling:4.0%}"
                )
        finally:
            for service in reversed(services):
                service.stop()
            atelier.close()
            close = getattr(generator, "close", None)
            if callable(close):
                close()
            ours.send("stop")
            fakes.join(timeout=10)


if __name__ == "__main__":
    main()
