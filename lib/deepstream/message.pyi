"""The protocol-free message model (message.py): the public part is UNDEFINED and the
JSON types; Message and the tables are the codecs' and handlers'."""
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

from typing_extensions import TypeAlias

class ParseError(Exception): ...

class _Undefined:
    def __bool__(self) -> bool: ...

UNDEFINED: _Undefined
"""JavaScript's `undefined`: data left out (an event without data; deletes a record key)."""

TOPIC_LETTERS: str
RESTORED: Tuple[int, ...]

# isinstance() tuples made once (an inline tuple is built on every call on MicroPython)
CONTAINERS: Tuple[type, ...]
SEQUENCES: Tuple[type, ...]
NUMBERS: Tuple[type, ...]
DOCUMENTS: Tuple[type, ...]

# stub only (no runtime names): what can be sent. Mapping and Sequence, not dict and
# list: a Dict[str, int] is a Mapping[str, Json] but not a Dict[str, Json].
Json: TypeAlias = Union[None, bool, int, float, str, Sequence["Json"], Mapping[str, "Json"]]
Data: TypeAlias = Union[Json, _Undefined]

class Message:
    topic: int
    action: int
    name: Optional[str]
    names: Optional[List[str]]
    data: Any
    bad: Optional[str]
    cid: Optional[str]
    version: Optional[int]
    path: Optional[str]
    subscription: Optional[str]
    versions: Any
    original: Optional[int]
    code: Optional[str]
    text: Optional[str]
    url: Optional[str]
    is_ack: bool
    is_write_ack: bool
    raw: Optional[str]
    def __init__(self, topic: int, action: int) -> None: ...
    def error_name(self) -> str: ...
    def action_text(self) -> str: ...
    def describe(self) -> str: ...

def check_name(name: object, what: str = ...) -> str: ...
def check_json(value: Any) -> str: ...
