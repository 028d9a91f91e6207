"""deepstream.io client for MicroPython and CPython (type stubs of the public API)."""
from .awaitable import (
    DeepstreamError as DeepstreamError, LoginError as LoginError, PresenceError as PresenceError,
    RecordError as RecordError, RpcError as RpcError)
from .client import Client as Client
from .message import UNDEFINED as UNDEFINED

__version__: str
