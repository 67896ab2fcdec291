"""A TCP proxy the test can cut. The app servers reach PostgreSQL through it, so a test can take
the database away from them (new connections refused, open ones reset, as when PostgreSQL
stops) and give it back, without stopping the cluster that other tests share."""

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.s3server import free_port


class TcpProxy:
    """Forward 127.0.0.1:`port` to `target` (host, port), one thread per connection."""

    def __init__(self, target: tuple[str, int], port: int | None = None):
        self.target = target
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._listener is not None:
            return
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: same port
        listener.settimeout(0.1)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def stop(self) -> None:
        """Refuse new connections and reset the open ones."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        self._acceptor.join()
        listener.close()
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:  # wakes its pump thread, which closes both ends
            _shut(connection)

    @contextmanager
    def cut(self) -> Iterator[None]:
        """No connections through the proxy for the block; back afterwards, whatever happens."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _shut(client)
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select():
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)
            except OSError:
                return
            finally:
                with self._lock:
                    self._open.difference_update(peers)
                for sock in peers:
                    _shut(sock)
                    sock.close()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
