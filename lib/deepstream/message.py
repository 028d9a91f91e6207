"""The message codec: splitting frames into messages, typed values, building.

Wire format: TOPIC 0x1f ACTION (0x1f FIELD)* 0x1e. Several messages may share
one frame. Parsing scans with find() and slices only what a handler needs.
"""
from .compat import json_dumps, json_loads
from .constants import MESSAGE_SEPARATOR, PART_SEPARATOR

MS = MESSAGE_SEPARATOR
PS = PART_SEPARATOR
# type tuples made once: written inline, isinstance(x, (a, b)) builds a
# tuple on every call on MicroPython (32 bytes of garbage each time)
CONTAINERS = (dict, list, tuple)
SEQUENCES = (list, tuple)
NUMBERS = (int, float)
DOCUMENTS = (dict, list)


class ParseError(Exception):
    """A malformed message or typed value; str(err) is the reference client's text."""


class _Undefined:
    """JavaScript's `undefined` (typed `U`): absent, unlike None (`L`, null)."""

    def __repr__(self):
        return "UNDEFINED"

    def __bool__(self):
        return False


UNDEFINED = _Undefined()


def split(msg):
    """Split one message into (topic, action, data list).

    Raises ParseError with the reference client's text when it has fewer
    than two parts.
    """
    i = msg.find(PS)
    if i < 0:
        raise ParseError("Insufficiant message parts")
    j = msg.find(PS, i + 1)
    if j < 0:
        return msg[:i], msg[i + 1:], []
    return msg[:i], msg[i + 1:j], msg[j + 1:].split(PS)


def build(topic, action, *fields):
    """One message, with its trailing separator.

    One join and one concatenation: chaining `+` made an intermediate
    string per part (measured 3x slower on MicroPython, tools/bench.py)."""
    return PS.join((topic, action) + fields) + MS


_INF = float("inf")


def number_text(value):
    if isinstance(value, int):  # the common case: no float work (boxed floats allocate)
        return str(value)
    if value != value:
        return "NaN"
    if value == _INF or value == -_INF:
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, float) and value == int(value) and abs(value) < 1e16:
        return str(int(value))  # JS writes 3.0 as 3
    return repr(value)


def typed(value):
    """Encode a value as a typed field (S, N, T, F, L, U, O)."""
    if isinstance(value, str):
        return "S" + value
    if isinstance(value, CONTAINERS):
        return "O" + check_json(value)
    if value is None:
        return "L"
    if value is True:
        return "T"
    if value is False:
        return "F"
    if isinstance(value, int):  # bools are caught above
        return "N%d" % value  # one string, not two
    if isinstance(value, float):
        return "N" + number_text(value)
    if value is UNDEFINED:
        return "U"
    raise TypeError("can't serialize type %s" % type(value).__name__)


def parse_number(text):
    try:
        if text in ("NaN", "Infinity", "-Infinity"):
            return float(text.replace("Infinity", "inf"))
        for ch in ".eE":
            if ch in text:
                return float(text)
        return int(text)
    except ValueError:
        raise ParseError("invalid number (N%s)" % text)


def _json(field, i, end):
    try:
        return json_loads(field[i + 1:end])
    except ValueError as err:
        raise ParseError("%s: %s(%s)" % (type(err).__name__, err, field[i:end]))


def parse_typed(field, i=0, end=None):
    """Decode the typed field field[i:end] (default: all of it) without
    slicing more than the value needs. Raises ParseError with the
    reference texts."""
    if end is None:
        end = len(field)
    if i >= end:
        raise ParseError("UNKNOWN_TYPE ()")
    if field.startswith("S", i):
        return field[i + 1:end]
    if field.startswith("O", i):
        return _json(field, i, end)
    if field.startswith("N", i):
        return parse_number(field[i + 1:end])
    if end - i == 1:
        if field.startswith("T", i):
            return True
        if field.startswith("F", i):
            return False
        if field.startswith("L", i):
            return None
        if field.startswith("U", i):
            return UNDEFINED
    raise ParseError("UNKNOWN_TYPE (%s)" % field[i:end])


def value_at(frame, start, end):
    """The typed value in frame[start:end] as a callback gets it: None for no
    value or U; a field after it is ignored. Raises ParseError."""
    if start >= end:
        return None
    i = frame.find(PS, start, end)
    value = parse_typed(frame, start, end if i < 0 else i)
    return None if value is UNDEFINED else value


def check_name(name, what="name"):
    """Refuse names the server cannot take: non-strings, empty, or holding a
    separator (an empty name crashes @deepstream/server 7.0.2)."""
    if not isinstance(name, str):
        raise TypeError("%s must be a string, got %s" % (what, type(name).__name__))
    if not name:
        raise ValueError("%s must not be empty" % what)
    if MS in name or PS in name:
        raise ValueError("%s must not contain the protocol separators 0x1e/0x1f" % what)
    return name


def check_json(value):
    """Encode value to compact JSON, refusing what JSON cannot carry."""
    try:
        text = json_dumps(value)
    except (TypeError, ValueError) as err:
        raise TypeError("value is not JSON-serialisable: %s" % err)
    if "na" in text or "nf" in text or "NaN" in text:
        # json writes NaN/Infinity bare (CPython) or as nan/inf (MicroPython):
        # not JSON, and it crashes the server; only then walk the value
        if _has_non_finite(value):
            raise ValueError("NaN and Infinity cannot be sent as JSON")
    return text


def _has_non_finite(value):
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        for v in value.values():
            if _has_non_finite(v):
                return True
    elif isinstance(value, SEQUENCES):
        for v in value:
            if _has_non_finite(v):
                return True
    return False
