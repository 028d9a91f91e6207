"""Record (record_core.py): one synced JSON document."""
from typing import Any, Callable, Dict, List, Optional, Union, overload

from .message import Data
from .options import _MergeStrategy
from .record_base import (
    CLOSED_TEXT as CLOSED_TEXT, LOCAL_WINS as LOCAL_WINS, REMOTE_WINS as REMOTE_WINS, T as T,
    RecordBase as RecordBase)

_WriteCallback = Callable[[Optional[str]], object]  # cb(None) or cb(error text): the write ack

class Record(RecordBase):
    def get(self, path: Optional[str] = None) -> Any: ...
    @overload
    def set(self, path_or_data: Union[Dict[str, Any], List[Any]],
            value: Optional[_WriteCallback] = ..., callback: Optional[_WriteCallback] = None) -> None: ...
    @overload
    def set(self, path_or_data: str, value: Data, callback: Optional[_WriteCallback] = None) -> None: ...
    @overload
    async def set_async(self, path_or_data: Union[Dict[str, Any], List[Any]]) -> None: ...
    @overload
    async def set_async(self, path_or_data: str, value: Data) -> None: ...
    def set_merge_strategy(self, fn: _MergeStrategy) -> None: ...
