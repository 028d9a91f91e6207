"""Our client on CPython in end-to-end tests: drive it until a condition holds."""
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


def open_client(url, username="py-client", **options):
    """A Client logged in to `url`, and the list its error events go to."""
    client = Client(url, **options)
    errors = []
    client.on("error", lambda msg, event, topic: errors.append((event, msg, topic)))
    result = []
    client.login({"username": username}, lambda ok, data: result.append((ok, data)))
    assert pump_until(client, lambda: result), "login got no answer; errors: %r" % errors
    assert result[0][0] is True, result
    return client, errors
