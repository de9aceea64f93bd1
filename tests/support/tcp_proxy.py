"""A small TCP proxy between the service and PostgreSQL that a test can break on purpose.

The shared PostgreSQL server must never be stopped or reconfigured (other sessions and CI use
it), so outages are made here instead: `refuse` closes the listening port (connections are
refused), `blackhole` accepts and holds connections and stops forwarding bytes both ways (a
hanging network), `cut` closes every connection open now, and `restore` forwards again.
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

PASS, REFUSE, BLACKHOLE = "pass", "refuse", "blackhole"
CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `upstream`; one daemon thread per connection."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = PASS
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(0.2)
        return listener

    def refuse(self) -> None:
        """New connections are refused (nothing listens); open ones are cut."""
        with self._lock:
            self.mode = REFUSE
            self._listener.close()
        self.cut()

    def blackhole(self) -> None:
        """Connections are accepted and held, and no byte moves either way."""
        with self._lock:
            self.mode = BLACKHOLE

    def cut(self) -> None:
        """Close every connection open now (the next ones are handled as the mode says)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            held, self._held = self._held, []
        for client, server in pairs:
            for sock in (client, server):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()
        for sock in held:
            with suppress(OSError):
                sock.close()

    def restore(self) -> None:
        """Forward again; connections held by a blackhole are cut, as a real partition does."""
        with self._lock:
            was = self.mode
            if was == REFUSE:
                self._listener = self._listen(self.port)
            self.mode = PASS
        if was == BLACKHOLE:
            self.cut()

    def close(self) -> None:
        self._closed.set()
        with self._lock, suppress(OSError):
            self._listener.close()
        self.cut()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            with self._lock:
                listener = self._listener
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by refuse(): wait for restore()
                self._closed.wait(0.05)
                continue
            if self.mode == BLACKHOLE:
                with self._lock:
                    self._held.append(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            while not self._closed.is_set():
                if self.mode == BLACKHOLE:
                    self._closed.wait(0.05)
                    if client.fileno() < 0:
                        return
                    continue
                try:
                    ready = selector.select(timeout=0.1)
                except (OSError, ValueError):
                    return
                for key, _ in ready:
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = source.recv(CHUNK)
                        if not data:
                            raise OSError("closed")
                        peers[source].setblocking(True)
                        peers[source].sendall(data)
                        peers[source].setblocking(False)
                    except OSError:
                        for sock in peers:
                            with suppress(OSError):
                                sock.close()
                        return


@contextmanager
def tcp_proxy(upstream_host: str, upstream_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(upstream_host, upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
