"""Our client on CPython in end-to-end tests: drive it until a condition holds."""
import threading
import time

from deepstream import Client


def pump_until(client, cond, timeout=5.0):
    """Poll `client` until cond() is true (True) or `timeout` seconds passed (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        client.poll(20)
        if cond():
            return True
    return False


def pump(client, ms):
    """Poll `client` for `ms` milliseconds."""
    pump_until(client, lambda: False, ms / 1000)


def pump_during(client, fn, timeout=5.0):
    """fn() in a thread while `client` is polled (a JS call our client must answer, say):
    what fn returned."""
    box = []
    thread = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    thread.start()
    assert pump_until(client, lambda: box, timeout), "%r did not return within %.1fs" % (fn, timeout)
    thread.join()
    return box[0]


def new_client(url, **options):
    """A Client, and the list its error events go to, as (event, message, topic)."""
    client = Client(url, **options)
    errors = []
    client.on("error", lambda msg, event, topic: errors.append((event, msg, topic)))
    return client, errors


def login(client, auth):
    """Log in with `auth`: (success, data) as the login callback got them."""
    result = []
    client.login(auth, lambda ok, data: result.append((ok, data)))
    assert pump_until(client, lambda: result), "login got no answer; last error: %r" % (client.last_error,)
    return result[0]


def open_client(url, username="py-client", **options):
    """A Client logged in to `url`, and the list its error events go to."""
    client, errors = new_client(url, **options)
    result = login(client, {"username": username})
    assert result[0] is True, (result, errors)
    return client, errors


def close(client, timeout=2.0):
    """close() and poll until the socket is gone too: the server has let go of the
    connection (its subscriptions included) by the time the next test starts."""
    client.close()
    conn = client._conn
    return pump_until(client, lambda: not conn._socket_open and conn.stopped(), timeout)
