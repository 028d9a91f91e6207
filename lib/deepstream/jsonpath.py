"""JSON paths into record data: read, copy-on-write set, equality, wire form.

A path is cut into tokens the way the reference client does: maximal runs of
characters that are not `.`, `[`, `]` or whitespace. So `pets[0].name`,
`pets.0.name` and `pets[ 0 ].name` all mean pets -> 0 -> name.

    tokens("pets[0].name")            -> ["pets", "0", "name"]
    get({"a": [1, 2]}, "a[1]")        -> 2      (UNDEFINED when missing)
    set({}, "a[1]", 5)                -> {"a": [None, 5]}
    set(data, "a", UNDEFINED)         -> data without key "a"
    wire_path({"a": [0]}, "a.0")      -> "a.0"  (as written: the server reads it as we do)
    wire_path({}, "a.0")              -> "a[0]" (rewritten: creating a list needs [n])

set() never changes its input: it copies the containers along the path and
returns the new root, or the very same root object when nothing changed, so
unchanged subtrees keep their identity (equal() then short-circuits on them).
Missing containers are created as the reference client does: a list when the
next token is a number, otherwise an object. Walking through a scalar or
null raises ValueError("invalid data or path ...").
"""
from .message import CONTAINERS, SEQUENCES, UNDEFINED


_last = ["", None]  # the last path cut and its tokens: a loop of sets mostly uses one path


def tokens(path):
    """The tokens of `path` (strings, a list the caller must not change);
    ValueError if there are none."""
    if path == _last[0]:
        return _last[1]
    if not isinstance(path, str):
        raise TypeError("path must be a string, got %s" % type(path).__name__)
    out = []
    start = -1
    i = 0
    n = len(path)
    while i < n:
        if path[i] in ".[] \t\r\n":
            if start >= 0:
                out.append(path[start:i])
                start = -1
        elif start < 0:
            start = i
        i += 1
    if start >= 0:
        out.append(path[start:])
    if not out:
        raise ValueError("invalid path '%s'" % path)
    _last[0] = path
    _last[1] = out
    return out


def _index(token):
    """A list index for `token`, or -1 if it is not a plain number."""
    return int(token) if token.isdigit() else -1


def _step(node, token, path):
    """One level down; UNDEFINED when missing; ValueError through a scalar."""
    if isinstance(node, dict):
        return node.get(token, UNDEFINED)
    if isinstance(node, list):
        i = _index(token)
        return node[i] if 0 <= i < len(node) else UNDEFINED
    raise ValueError("invalid data or path '%s'" % path)


def get(data, path):
    """The value at `path` (None or "" = the whole data), or UNDEFINED."""
    if not path:
        return data
    toks = tokens(path) if isinstance(path, str) else path
    node = data
    for tok in toks:
        if node is UNDEFINED:
            return UNDEFINED
        node = _step(node, tok, path)
    return node


def copy(value):
    """A deep copy of a JSON value (tuples become lists)."""
    if isinstance(value, dict):
        return {k: copy(v) for k, v in value.items()}
    if isinstance(value, SEQUENCES):
        return [copy(v) for v in value]
    return value


def equal(a, b):
    """JSON equality as JavaScript sees it: True is not 1, 1 equals 1.0."""
    if a is b:
        return True
    t = type(a)
    if t is type(b) and (t is int or t is str or t is float):  # the common case, at once
        return a == b
    return _equal(a, b)


def _equal(a, b):
    if isinstance(a, dict):
        if not isinstance(b, dict) or len(a) != len(b):
            return False
        for k in a:
            if k not in b or not equal(a[k], b[k]):
                return False
        return True
    if isinstance(a, SEQUENCES):
        if not isinstance(b, SEQUENCES) or len(a) != len(b):
            return False
        for i in range(len(a)):
            if not equal(a[i], b[i]):
                return False
        return True
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(b, CONTAINERS):
        return False  # same bools are the same object: caught by `is` above
    if isinstance(a, str) != isinstance(b, str):
        return False
    return a == b


def set(data, path, value, copy_value=True):
    """New root with `value` at `path` (UNDEFINED deletes); `data` untouched.

    Returns `data` itself when the value there is already equal.
    """
    toks = tokens(path) if isinstance(path, str) else path
    if len(toks) == 1 and type(data) is dict:
        return _set_key(data, toks[0], value, copy_value)
    return _set_path(data, path, toks, value, copy_value)


def _set_key(data, key, value, copy_value):
    # one key of an object, the common set: no walk, one dict copied
    old = data.get(key, UNDEFINED)
    if value is UNDEFINED:
        if old is UNDEFINED:
            return data
        data = dict(data)
        del data[key]
        return data
    if old is not UNDEFINED and equal(old, value):
        return data
    if copy_value and isinstance(value, CONTAINERS):
        value = copy(value)
    data = dict(data)
    data[key] = value
    return data


def _set_path(data, path, toks, value, copy_value):
    # the general set: walk the path, copying each container on it
    old = get(data, toks)  # raises for a path through a scalar
    if value is UNDEFINED:
        if old is UNDEFINED:
            return data
    elif old is not UNDEFINED and equal(old, value):
        return data
    if copy_value:
        value = copy(value)
    root = _shallow(data, path)
    node = root
    last = len(toks) - 1
    for i in range(last + 1):
        tok = toks[i]
        if i == last:
            _put(node, tok, value, path)
            break
        child = _step(node, tok, path)
        if child is UNDEFINED:
            child = [] if toks[i + 1].isdigit() else {}
        else:
            child = _shallow(child, path)
        _put(node, tok, child, path)
        node = child
    return root


MAX_GAP = 1024  # holes a path set may open past a list's end


def _shallow(node, path):
    if isinstance(node, dict):
        return dict(node)
    if isinstance(node, list):
        return list(node)
    raise ValueError("invalid data or path '%s'" % path)


def _put(node, tok, value, path):
    if isinstance(node, dict):
        if value is UNDEFINED:
            node.pop(tok, None)
        else:
            node[tok] = value
        return
    i = _index(tok)
    if i < 0:
        raise ValueError("invalid data or path '%s' (list index '%s')" % (path, tok))
    if i > len(node) + MAX_GAP:
        # a path like a[10000000] (from anyone who may write the record) would build
        # a list of that many holes: more than a board's heap, and than any message
        raise ValueError("list index %d in '%s' is more than %d past the end of the list" % (i, path, MAX_GAP))
    if value is UNDEFINED:
        if i < len(node):
            node[i] = None  # as in JavaScript: a hole, sent as null
        return
    while len(node) <= i:
        node.append(None)
    node[i] = value


def wire_path(data, path, toks=None):
    """`path` as it goes on the wire for a set on `data` (the data BEFORE the set).

    The user's text wherever @deepstream/server 7.0.2 reads it as we do:
    `pets.0.name` into the existing list `pets`, `o[0]` into an object,
    anything that creates only objects. Rewritten where the server would
    build another shape or reach another value: it makes a list only for
    `[n]` (`fresh.0.x` on a record without `fresh`: we make a list, it would
    make the object {"0": ...}), and it reads `.01` on a list and `[01]` on
    an object differently (and whitespace, a leading `[n]`). The rewrite has
    `[n]` for every token that indexes a list and `.key` for every other,
    the first token bare. `toks`: tokens(path), if the caller has them.
    """
    if toks is None:
        toks = tokens(path)
    if len(toks) == 1:  # a top-level key: nothing to walk
        return toks[0]
    return _wire_path(data, path, toks)


def _wire_path(data, path, toks):
    first = toks[0]
    parts = [first]
    same = path.startswith(first)  # the user's text, read token by token
    pos = len(first)
    node = data
    for i in range(1, len(toks)):
        tok = toks[i]
        if node is not UNDEFINED:
            node = _step(node, toks[i - 1], path)
        if node is UNDEFINED:  # created by this set: by us a list when tok is a number
            is_list = tok.isdigit()
            number = False  # the server makes a list for [n] only
        else:
            is_list = isinstance(node, list)
            # a number the server turns back into the same key or index either way
            number = tok.isdigit() and (tok[0] != "0" or tok == "0")
        parts.append("[" + tok + "]" if is_list else "." + tok)
        if same:
            sep = path[pos:pos + 1]
            if sep == "." and (number or not is_list) and path.startswith(tok, pos + 1):
                pos += 1 + len(tok)
            elif sep == "[" and (number or is_list) and path.startswith(tok + "]", pos + 1):
                pos += 2 + len(tok)
            else:
                same = False
    if same and pos == len(path):
        return path
    return "".join(parts)
