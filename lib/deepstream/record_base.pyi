"""What every record has (record_base.py): identity, subscriptions, events, lifetime."""
from typing import Any, Callable, Final, Optional, Union, overload

from typing_extensions import Self

T: Final = "R"
WRITE_ACK: Final[str]
NO_ACK: Final[str]
CLOSED_TEXT: Final[str]
RECORD_DESTROYED: Final = "RECORD_DESTROYED"

# the merge strategies: fn(record, remote_data, remote_version, done); done(error, merged)
def REMOTE_WINS(record: Any, remote_data: Any, remote_version: int, done: Callable[..., None]) -> None: ...
def LOCAL_WINS(record: Any, remote_data: Any, remote_version: int, done: Callable[..., None]) -> None: ...

class RecordBase:
    name: str
    version: Optional[int]
    """None until the first read"""
    usages: int
    """get_record() calls not yet discarded"""
    is_ready: bool
    is_destroyed: bool
    has_provider: bool
    def __init__(self, handler: Any, name: str) -> None: ...
    def when_ready(self, callback: Callable[[Self], object]) -> None: ...
    async def when_ready_async(self) -> Self: ...
    # subscribe(cb[, trigger_now]): cb(data); subscribe(path, cb[, trigger_now]): cb(value)
    @overload
    def subscribe(self, path: Callable[[Any], object], callback: Optional[bool] = None,
                  trigger_now: bool = False) -> None: ...
    @overload
    def subscribe(self, path: str, callback: Callable[[Any], object], trigger_now: bool = False) -> None: ...
    def unsubscribe(self, path: Union[str, Callable[[Any], object], None] = None,
                    callback: Optional[Callable[[Any], object]] = None) -> None: ...
    # "ready": cb(record); "delete", "discard": cb(); "hasProviderChanged": cb(bool)
    def on(self, event: str, callback: Callable[..., object]) -> None: ...
    def off(self, event: str, callback: Optional[Callable[..., object]] = None) -> None: ...
    def discard(self) -> None: ...
    def delete(self) -> None: ...
