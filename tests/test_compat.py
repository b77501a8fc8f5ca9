"""ui/compat.py's server-side pieces, without a server: Nagle's algorithm off for a socket made as Streamlit makes
its own."""

import os
import socket

import pytest

from ui import compat


@pytest.mark.skipif(not os.path.isdir("/dev/fd"), reason="no /dev/fd to find the socket in")
def test_reply_at_once_turns_nagle_off_for_the_connections_a_listening_socket_accepts():
    listener = socket.socket(family=socket.AF_INET)  # as Streamlit binds its own: no proto, so asyncio leaves Nagle on
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        assert compat.reply_at_once(port)
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            assert client.fileno() >= 0
    finally:
        listener.close()
    assert not compat.reply_at_once(port)  # nothing listens there any more
