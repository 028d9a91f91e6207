"""The one place where CPython and MicroPython differ.

Everything runtime-specific is chosen here by try/except ImportError, so the
rest of the library never checks which interpreter it runs on.
"""
import json
import sys

try:
    from micropython import const  # noqa: F401
except ImportError:  # CPython
    def const(x):
        return x

try:
    from time import ticks_ms, ticks_diff, ticks_add  # noqa: F401
except ImportError:  # CPython: monotonic milliseconds, no wrap-around
    from time import monotonic as _monotonic

    def ticks_ms():
        return int(_monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b

    def ticks_add(a, b):
        return a + b

try:
    from os import urandom  # noqa: F401
except ImportError:  # some MicroPython ports
    import random as _random

    def urandom(n):
        return bytes(_random.getrandbits(8) for _ in range(n))

IS_MICROPYTHON = sys.implementation.name == "micropython"

# Where the order of a registry decides the order of what is sent (replayed
# subscriptions, batched names), it must be the order the user asked in.
# CPython's dict keeps insertion order; MicroPython's does not, its
# OrderedDict does, and takes less room (lookups scan it, fine at these sizes).
ordered_dict = dict
if IS_MICROPYTHON:
    try:
        from collections import OrderedDict as ordered_dict  # noqa: F811
    except ImportError:  # a build without it: only the order is lost
        pass


def json_dumps(value):
    """Compact JSON (no spaces): the server compares some fields byte for byte."""
    return json.dumps(value, separators=(",", ":"))


json_loads = json.loads


def _asyncio_names():
    """asyncio costs ~4 KB of heap: loaded only when a driver or awaitable asks."""
    try:
        import asyncio
    except ImportError:  # a board built without asyncio: only the poll driver works
        return {"asyncio": None}
    if hasattr(asyncio, "sleep_ms"):
        sleep = asyncio.sleep_ms
    else:
        def sleep(ms):
            return asyncio.sleep(ms / 1000)
    if hasattr(asyncio, "wait_for_ms"):
        wait_for = asyncio.wait_for_ms
    else:
        def wait_for(aw, ms):
            return asyncio.wait_for(aw, ms / 1000)
    return {"asyncio": asyncio, "sleep_ms": sleep, "wait_for_ms": wait_for}


def __getattr__(name):
    # `from .compat import asyncio, sleep_ms, wait_for_ms` lands here
    if name in ("asyncio", "sleep_ms", "wait_for_ms"):
        names = _asyncio_names()
        g = globals()
        g.update(names)
        if name in names:
            return names[name]
    raise AttributeError(name)
