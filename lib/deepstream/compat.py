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


def json_dumps(value):
    """Compact JSON (no spaces): the server compares some fields byte for byte."""
    return json.dumps(value, separators=(",", ":"))


json_loads = json.loads

try:
    import asyncio  # noqa: F401
except ImportError:  # a board built without asyncio: only the poll driver works
    asyncio = None

if asyncio is not None:
    if hasattr(asyncio, "sleep_ms"):
        sleep_ms = asyncio.sleep_ms
    else:
        def sleep_ms(ms):
            return asyncio.sleep(ms / 1000)

    if hasattr(asyncio, "wait_for_ms"):
        wait_for_ms = asyncio.wait_for_ms
    else:
        def wait_for_ms(aw, ms):
            return asyncio.wait_for(aw, ms / 1000)
