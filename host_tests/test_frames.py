"""The functions on a per-message path keep their call frame on the C stack.

MicroPython puts a bytecode function's frame (its locals, its value stack and
3 words per active `try`) on the C stack only while it is at most 11 words
(VM_MAX_STATE_ON_STACK in py/objfun.c, the same count on 32 and 64 bits);
a bigger frame is taken from the heap and given back on every call. On a
heap that is in use, finding room for it means scanning past the holes: up
to 1-2 us per call on the unix port (30 ns on a fresh heap), more than the
rest of a small function.
docs/MEMORY.md explains the rule; this test holds the hot paths to it.

The frame sizes come from the compiler itself (`micropython -v -v` prints
each code block's n_state and exception-stack depth).
"""
import ast
import os
import re
import subprocess

LIB = os.path.join(os.path.dirname(__file__), "..", "lib")
LIMIT = 11  # words

# per module: the functions a message passes through (sending, receiving,
# a poll turn with nothing to do, an RPC call of ours, a record path set)
HOT = {
    "deepstream/client.py": ["Client.poll"],
    "deepstream/connection.py": ["Connection.push", "Connection.reserve", "Connection._put", "Connection.take_frame",
                                 "Connection.take_payload", "Connection._framed", "Connection._seal",
                                 "Connection._reclaim", "Connection.tick", "Connection.next_deadline",
                                 "Connection.receive_text", "Connection.receive_binary"],
    "deepstream/event.py": ["EventHandler.emit", "EventHandler._notify"],
    "deepstream/message.py": ["check_name"],
    "deepstream/text_codec.py": ["typed", "parse_typed", "value_at", "emit", "_event", "seal"],
    "deepstream/text_more.py": ["patch", "_patch", "request", "reply", "_response_in", "_cid_at"],
    "deepstream/binary_codec.py": ["emit", "patch", "request", "_open", "_header", "_close", "_bytes_field", "_vlen",
                                   "_put_varint", "_put_int32", "_data", "_blen", "_size",
                                   "_dispatch_hot", "_event", "_find", "_skip", "_text", "_json", "_reply", "_cid_at", "_respond",
                                   "seal", "_frame_at"],
    "deepstream/jsonpath.py": ["tokens", "set", "_set_key", "equal", "wire_path"],
    "deepstream/record_core.py": ["Record.set", "Record._set_at", "Record._send_patch", "Record._apply",
                                  "_falsy_scalar"],
    "deepstream/rpc.py": ["RpcHandler.make"],
    "deepstream/rpc_call.py": ["RpcCalls.make", "RpcCalls._start_timers", "RpcCalls.accepted",
                                "RpcCalls.complete"],
    "deepstream/timers.py": ["Timers.add", "Timers.cancel", "Timers.next_deadline", "Timers.fire"],
    "deepstream/poll.py": ["PollDriver.poll", "PollDriver._wait_ms", "PollDriver._flush", "PollDriver._write_through"],
    "deepstream/ws.py": ["seal_frame", "frame_in_place", "_fresh_key", "mask_in_place", "_key", "WebSocket.read_view",
                         "WebSocket.commit", "WebSocket.next_event"],
}

_BLOCK = re.compile(r"code block '([^']+)'.*?\(N_STATE (\d+)\)\s*\(N_EXC_STACK (\d+)\)", re.S)


def frame_words(micropython, path):
    """{function name: [frame words, ...]} for every code block of the file."""
    code = "compile(open(%r).read(), %r, 'exec')" % (path, os.path.basename(path))
    res = subprocess.run([micropython, "-v", "-v", "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    sizes = {}
    for name, n_state, n_exc in _BLOCK.findall(res.stdout + res.stderr):
        sizes.setdefault(name, []).append(int(n_state) + 3 * int(n_exc))
    return sizes


def qualified_names(path):
    """{function name: [qualified name, ...]} in source order, which is also
    the order of the compiler's code blocks of that name."""
    names = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.setdefault(child.name, []).append(prefix + child.name)
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    with open(path) as f:
        visit(ast.parse(f.read()), "")
    return names


def test_hot_functions_keep_their_frame_off_the_heap(micropython):
    too_big = []
    for module, hot in HOT.items():
        path = os.path.join(LIB, module)
        sizes = frame_words(micropython, path)
        names = qualified_names(path)
        for qualified in hot:
            name = qualified.rsplit(".", 1)[-1]
            assert qualified in names.get(name, ()), "%s: no function %s (renamed? update HOT)" % (module, qualified)
            assert len(sizes[name]) == len(names[name]), (module, name)
            words = sizes[name][names[name].index(qualified)]
            if words > LIMIT:
                too_big.append("%s %s: %d words" % (module, qualified, words))
    assert not too_big, "frames over %d words (heap-allocated per call): %s" % (LIMIT, ", ".join(too_big))


def test_the_measure_sees_a_big_frame(micropython, tmp_path):
    # the parser reads the compiler's output right: one local more, and a try, show
    src = tmp_path / "m.py"
    src.write_text("def small(a):\n    return a\n\n"
                   "def big(a, b, c, d, e, f, g, h, i, j, k):\n    return a\n\n"
                   "def guarded(a):\n    try:\n        return a\n    except Exception:\n        return None\n")
    sizes = frame_words(micropython, str(src))
    assert sizes["small"][0] <= LIMIT
    assert sizes["big"][0] > LIMIT
    assert sizes["guarded"][0] >= sizes["small"][0] + 3
