"""Submissions from many connections at once, for the crash and outage proofs: every answer
counted by status, and each 201's generation id kept by user."""

from __future__ import annotations

import threading

import httpx

from tests.support.builders import bearer, generation_body


class Load:
    """Threads submitting (user `u<i>`) until stopped; what each 201 said, by user."""

    def __init__(self, base_url: str, users: int) -> None:
        self.base_url = base_url
        self.users = users
        self.accepted: dict[str, list[str]] = {f"u{i}": [] for i in range(users)}
        self.statuses: dict[int, int] = {}
        self.transport_errors = 0  # no answer at all (a server killed, or one that hung)
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def run(self, index: int) -> None:
        user = f"u{index % self.users}"
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            while not self.stop.is_set():
                try:
                    response = client.post(
                        "/api/generate", json=generation_body(), headers=bearer(user)
                    )
                except httpx.HTTPError:
                    with self._lock:
                        self.transport_errors += 1
                    continue  # the server is gone: this request was never acknowledged
                with self._lock:
                    status = response.status_code
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    if status == 201:
                        self.accepted[user].append(response.json()["data"]["_id"])

    @property
    def total(self) -> int:
        return sum(map(len, self.accepted.values()))

    def start(self, connections: int) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.run, args=(i,)) for i in range(connections)]
        for thread in threads:
            thread.start()
        return threads

    def finish(self, threads: list[threading.Thread]) -> None:
        self.stop.set()
        for thread in threads:
            thread.join()
