"""The message codec: splitting, typed values, building, name checks."""
from deepstream.message import UNDEFINED, ParseError, check_name
from deepstream.text_codec import build, parse_typed, split, typed
from deepstream.testing import open_link

US = "\x1f"
RS = "\x1e"


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc as err:
        return str(err)
    raise AssertionError("%s not raised" % exc.__name__)


def _receiver():
    link = open_link()
    got = []
    link.client.event.subscribe("a", got.append)
    link.client.event.subscribe("b", got.append)
    link.receive("E|A|S|a+E|A|S|b+")
    return link, got


def test_a_frame_holds_several_messages():
    link, got = _receiver()
    link.receive("E|EVT|a|S1+E|EVT|b|N2+E|EVT|a|O{\"x\":[3]}+")
    assert got == ["1", 2, {"x": [3]}] and link.errors == []


def test_short_pieces_and_empty_frames_are_dropped():
    link, got = _receiver()
    link.conn.receive_text("")
    link.conn.receive_text("ab" + RS + RS + "E" + RS)
    assert got == [] and link.errors == []


def test_a_frame_without_final_separator_is_complete():
    link, got = _receiver()
    link.receive("E|EVT|a|Snosep")
    assert got == ["nosep"]


def test_event_fields_are_read_in_place():
    link, got = _receiver()
    link.receive("E|EVT|a+E|EVT|a|U+E|EVT|a|Sx|extra+E|EVT||Sx+E|EVT|a|Q1+")
    assert got == [None, None, "x"]  # no data, undefined, a field after the data is ignored
    assert [e[:2] for e in link.errors] == [("MESSAGE_PARSE_ERROR", "event message without a name"),
                                          ("MESSAGE_PARSE_ERROR", "UNKNOWN_TYPE (Q1)")]


def test_parse_typed_reads_a_slice_of_its_text():
    text = "E|EVT|a|N12|x"
    assert parse_typed(text, 8, 11) == 12
    assert parse_typed("xSabcx", 1, 5) == "abc"
    assert raises(ParseError, parse_typed, "abc", 1, 1) == "UNKNOWN_TYPE ()"


def test_split_fields():
    assert split("E\x1fEVT\x1fnews\x1fShi") == ("E", "EVT", ["news", "Shi"])
    assert split("C\x1fA") == ("C", "A", [])
    assert split("U\x1fQ\x1f") == ("U", "Q", [""])


def test_split_insufficient_parts():
    assert raises(ParseError, split, "hello") == "Insufficiant message parts"


def test_build():
    assert build("E", "S", "news") == "E\x1fS\x1fnews\x1e"
    assert build("C", "PO") == "C\x1fPO\x1e"


def test_typed_encoding():
    assert typed("hi") == "Shi"
    assert typed("") == "S"
    assert typed(None) == "L"
    assert typed(True) == "T"
    assert typed(False) == "F"
    assert typed(0) == "N0"
    assert typed(42) == "N42"
    assert typed(3.5) == "N3.5"
    assert typed(3.0) == "N3"
    assert typed(-1) == "N-1"
    assert typed({"a": [1, 2]}) == 'O{"a":[1,2]}'
    assert typed([1, "x"]) == 'O[1,"x"]'
    assert typed(UNDEFINED) == "U"


def test_typed_refuses_unserialisable():
    raises(TypeError, typed, object())
    raises(ValueError, typed, {"a": float("nan")})


def test_parse_typed_values():
    assert parse_typed("Shi") == "hi"
    assert parse_typed("S") == ""
    assert parse_typed("N42") == 42 and isinstance(parse_typed("N42"), int)
    assert parse_typed("N3.5") == 3.5
    assert parse_typed("N-1e+21") == -1e21
    assert parse_typed("T") is True
    assert parse_typed("F") is False
    assert parse_typed("L") is None
    assert parse_typed("U") is UNDEFINED
    assert parse_typed('O{"a":[1,2]}') == {"a": [1, 2]}
    assert parse_typed("O[1,2]") == [1, 2]


def test_parse_typed_errors_use_reference_texts():
    assert raises(ParseError, parse_typed, "Zbad") == "UNKNOWN_TYPE (Zbad)"
    assert raises(ParseError, parse_typed, "") == "UNKNOWN_TYPE ()"
    assert raises(ParseError, parse_typed, "Tx") == "UNKNOWN_TYPE (Tx)"
    text = raises(ParseError, parse_typed, "O{bad")
    assert text.endswith("(O{bad)"), text
    raises(ParseError, parse_typed, "Nabc")


def test_check_name():
    assert check_name("news") == "news"
    raises(ValueError, check_name, "")
    raises(ValueError, check_name, "a\x1fb")
    raises(ValueError, check_name, "a\x1eb")
    raises(TypeError, check_name, None)
    raises(TypeError, check_name, 5)


def test_json_escapes_separators():
    # a separator inside a JSON string must be escaped, or it would split the message
    assert "\x1f" not in typed({"a": "x\x1fy"})
    assert "\x1e" not in typed(["\x1e"])
