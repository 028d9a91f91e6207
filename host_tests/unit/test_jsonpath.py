"""JSON paths: tokens, get, copy-on-write set, equality and the wire form."""
import deepstream.jsonpath as jsonpath
from deepstream.message import UNDEFINED


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc as err:
        return str(err)
    raise AssertionError("%s not raised" % exc.__name__)


def test_both_notations_give_the_same_tokens():
    for p in ("pets[0].name", "pets.0.name", "pets[ 0 ].name", " pets . 0 . name "):
        assert jsonpath.tokens(p) == ["pets", "0", "name"], p
    assert jsonpath.tokens("a[1][2]") == ["a", "1", "2"]


def test_empty_paths_are_refused():
    for p in ("", ".", "[]", " . "):
        assert "invalid path" in raises(ValueError, jsonpath.tokens, p)
    raises(TypeError, jsonpath.tokens, 3)


def test_get():
    data = {"a": {"b": [10, {"c": True}]}, "0": "zero"}
    assert jsonpath.get(data, None) is data
    assert jsonpath.get(data, "a.b[0]") == 10
    assert jsonpath.get(data, "a.b.1.c") is True
    assert jsonpath.get(data, "0") == "zero"  # numeric key in an object
    assert jsonpath.get(data, "missing") is UNDEFINED
    assert jsonpath.get(data, "missing.deeper.still") is UNDEFINED
    assert jsonpath.get(data, "a.b[5]") is UNDEFINED  # past the end
    assert jsonpath.get(data, "a.b.x") is UNDEFINED  # a name on a list


def test_get_through_a_scalar_or_null_raises():
    assert "invalid data or path" in raises(ValueError, jsonpath.get, {"a": 5}, "a.b")
    raises(ValueError, jsonpath.get, {"a": None}, "a.b")
    raises(ValueError, jsonpath.get, {"a": "text"}, "a[0]")


def test_set_creates_missing_containers_like_the_reference():
    assert jsonpath.set({}, "a.b", 1) == {"a": {"b": 1}}
    assert jsonpath.set({}, "pets[0].name", "cat") == {"pets": [{"name": "cat"}]}
    assert jsonpath.set({}, "pets.0.name", "cat") == {"pets": [{"name": "cat"}]}  # next token numeric
    assert jsonpath.set({}, "list[2]", 5) == {"list": [None, None, 5]}


def test_set_index_past_the_end_pads_with_null():
    assert jsonpath.set({"l": [1]}, "l[3]", 4) == {"l": [1, None, None, 4]}
    assert jsonpath.set({"l": [1]}, "l[1]", 2) == {"l": [1, 2]}


def test_numeric_keys_in_objects_stay_keys():
    data = {"o": {"0": "a"}}
    assert jsonpath.set(data, "o[0]", "b") == {"o": {"0": "b"}}
    assert jsonpath.set(data, "o.1", "c") == {"o": {"0": "a", "1": "c"}}


def test_set_does_not_touch_its_input_and_shares_unchanged_parts():
    data = {"a": {"x": 1}, "b": {"y": [1, 2]}}
    new = jsonpath.set(data, "a.x", 2)
    assert data == {"a": {"x": 1}, "b": {"y": [1, 2]}}
    assert new == {"a": {"x": 2}, "b": {"y": [1, 2]}}
    assert new["b"] is data["b"]


def test_set_of_an_equal_value_returns_the_same_object():
    data = {"a": [1, {"b": 2}], "n": 1}
    assert jsonpath.set(data, "a", [1, {"b": 2}]) is data
    assert jsonpath.set(data, "n", 1.0) is data  # JS: 1 === 1.0
    assert jsonpath.set(data, "n", True) is not data  # but true is not 1
    assert jsonpath.set(data, "gone", UNDEFINED) is data


def test_set_copies_the_value():
    value = {"deep": [1]}
    new = jsonpath.set({}, "v", value)
    value["deep"].append(2)
    assert new == {"v": {"deep": [1]}}


def test_undefined_deletes_a_key_and_leaves_a_hole_in_a_list():
    assert jsonpath.set({"a": 1, "b": 2}, "a", UNDEFINED) == {"b": 2}
    assert jsonpath.set({"l": [1, 2, 3]}, "l[1]", UNDEFINED) == {"l": [1, None, 3]}
    assert jsonpath.set({"a": {"b": 1}}, "a.b", UNDEFINED) == {"a": {}}


def test_none_is_null_not_a_deletion():
    assert jsonpath.set({"a": 1}, "a", None) == {"a": None}


def test_set_through_a_scalar_or_a_name_on_a_list_raises():
    raises(ValueError, jsonpath.set, {"a": 5}, "a.b", 1)
    raises(ValueError, jsonpath.set, {"a": None}, "a.b", 1)
    raises(ValueError, jsonpath.set, {"l": []}, "l.name", 1)


def test_a_path_may_open_a_bounded_gap_past_a_lists_end():
    gap = jsonpath.MAX_GAP
    assert len(jsonpath.set({"l": []}, "l[%d]" % gap, 1)["l"]) == gap + 1
    assert raises(ValueError, jsonpath.set, {"l": []}, "l[%d]" % (gap + 1), 1).startswith("list index")
    assert raises(ValueError, jsonpath.set, {}, "l[10000000]", 1)  # no list of holes is made first


def test_equal_is_type_strict_like_javascript():
    assert jsonpath.equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not jsonpath.equal(1, True)
    assert not jsonpath.equal(0, False)
    assert not jsonpath.equal("1", 1)
    assert not jsonpath.equal([], {})
    assert not jsonpath.equal({"a": 1}, {"b": 1})
    assert not jsonpath.equal(None, 0)
    assert jsonpath.equal(None, None)
    assert not jsonpath.equal([1], [1, 2])


def test_wire_path_keeps_what_the_server_reads_as_we_do():
    data = {"pets": [{"name": "cat"}], "o": {"0": 1}, "m": [[1, 2]], "n": 1}
    for path in ("pets.0.name", "pets[0].name", "pets.0", "o[0]", "o.0", "m.0.1", "m[0][1]", "n",
                 "fresh", "fresh.x.y", "fresh[0]", "fresh[0].x", "fresh[2][0]", "pets.3.name", "o.1"):
        assert jsonpath.wire_path(data, path) == path, path
    assert jsonpath.wire_path([5], "0") == "0"


def test_wire_path_rewrites_where_the_server_would_build_another_shape():
    data = {"pets": [{"name": "cat"}], "o": {}}
    # a created list: the server makes lists only for [n]
    assert jsonpath.wire_path(data, "fresh.0.x") == "fresh[0].x"
    assert jsonpath.wire_path(data, "fresh.0.1") == "fresh[0][1]"
    assert jsonpath.wire_path(data, "o.list.2") == "o.list[2]"
    assert jsonpath.wire_path(data, "pets.0.tags.0") == "pets[0].tags[0]"  # a rewrite writes it all
    assert jsonpath.wire_path({}, "x[0]") == "x[0]"
    # read differently by the server: whitespace, a leading [n], an index that is no plain number
    assert jsonpath.wire_path(data, "pets[ 0 ].name") == "pets[0].name"
    assert jsonpath.wire_path(data, "first name") == "first.name"
    assert jsonpath.wire_path([[1]], "[0][0]") == "0[0]"
    assert jsonpath.wire_path(data, "pets[00].name") == "pets[00].name"
    assert jsonpath.wire_path(data, "o[01]") == "o.01"
    assert jsonpath.wire_path(data, "o[0]x") == "o.0.x"


def test_copy_is_deep():
    v = {"a": [{"b": 1}]}
    c = jsonpath.copy(v)
    assert c == v and c["a"] is not v["a"] and c["a"][0] is not v["a"][0]
