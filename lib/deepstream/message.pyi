"""The message codec (message.py): the public part is UNDEFINED and the JSON types."""
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from typing_extensions import TypeAlias

class ParseError(Exception): ...

class _Undefined:
    def __bool__(self) -> bool: ...

UNDEFINED: _Undefined
"""JavaScript's `undefined`: data left out (an event without data; deletes a record key)."""

MS: str
PS: str

# isinstance() tuples made once (an inline tuple is built on every call on MicroPython)
CONTAINERS: Tuple[type, ...]
SEQUENCES: Tuple[type, ...]
NUMBERS: Tuple[type, ...]
DOCUMENTS: Tuple[type, ...]

# stub only (no runtime names): what can be sent. Mapping and Sequence, not dict and
# list: a Dict[str, int] is a Mapping[str, Json] but not a Dict[str, Json].
Json: TypeAlias = Union[None, bool, int, float, str, Sequence["Json"], Mapping[str, "Json"]]
Data: TypeAlias = Union[Json, _Undefined]

def split(msg: str) -> Tuple[str, str, List[str]]: ...
def build(topic: str, action: str, *fields: str) -> str: ...
def number_text(value: Union[int, float]) -> str: ...
def typed(value: Data) -> str: ...
def parse_number(text: str) -> Union[int, float]: ...
def parse_typed(field: str, i: int = 0, end: Optional[int] = None) -> Any: ...
def check_name(name: object, what: str = ...) -> str: ...
def check_json(value: Any) -> str: ...
