"""A member of a group-commit batch that cannot be saved is refused alone; the rest are saved."""

from __future__ import annotations

import threading
import time

from application.service import Atelier
from application.views import Receipt
from tests.application.conftest import AppFactory
from tests.support.builders import generation_request

UNENCODABLE_PROMPT = "on a street \udfff"  # a lone surrogate: no store can encode it


def stored_events(app: Atelier) -> int:
    return app.recorder.max_notification_id() or 0


def waiting(app: Atelier) -> int:
    return app.group_commit._waiting.qsize()


def wait_until(condition: object) -> None:
    deadline = time.monotonic() + 10
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the group commit never took its batch"
        time.sleep(0.01)


def test_an_unencodable_member_fails_alone_and_its_batch_is_saved(make_app: AppFactory) -> None:
    app = make_app()
    app.open_account("alice", 10)
    app.open_account("mallory", 10)
    app.submit_generation("alice", generation_request())  # creates the queue
    before = stored_events(app)
    app.submit_generation("alice", generation_request())
    per_submission = stored_events(app) - before

    answers: dict[str, Receipt | BaseException] = {}

    def submit(name: str, user: str, prompt: str | None) -> None:
        try:
            answers[name] = app.submit_generation(user, generation_request(custom_prompt=prompt))
        except BaseException as error:  # the test reads every outcome
            answers[name] = error

    def start(name: str, user: str, prompt: str | None = None) -> threading.Thread:
        thread = threading.Thread(target=submit, args=(name, user, prompt))
        thread.start()
        return thread

    before = stored_events(app)
    with app.queue_lock:  # the group commit waits here with its first batch
        threads = [start("first", "alice")]
        wait_until(lambda: waiting(app) == 0 and "first" not in answers)
        time.sleep(0.05)
        threads += [start("bad", "mallory", UNENCODABLE_PROMPT)]
        threads += [start(f"good{n}", "alice", f"prompt {n}") for n in range(3)]
        wait_until(lambda: waiting(app) == 4)  # the next batch: the bad one and three good
    for thread in threads:
        thread.join(timeout=30)

    assert isinstance(answers.pop("bad"), Exception)
    assert all(isinstance(answer, Receipt) for answer in answers.values()), answers
    assert stored_events(app) == before + 4 * per_submission
    mallory = app.get_account("mallory").record
    assert (mallory.balance, mallory.reserved) == (10, 0)
    for answer in answers.values():
        assert isinstance(answer, Receipt)
        assert app.get_generation("alice", answer.generation_id).status == "pending"
    assert app.get_account("alice").record.reserved == 6
