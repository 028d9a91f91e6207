"""The client's own DNS query (deepstream/dns.py): the query it builds, and what it makes
of an answer, bad ones included: a malformed, truncated or foreign answer is a
ValueError that says so, never another exception. Runs on CPython and MicroPython."""
from deepstream.dns import BUF_SIZE, answer_id, parse, query, server_address

QID = 0x1234
# the query for deepstream.test's A record, id 0x1234, recursion desired
QUERY = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
         b"\x0adeepstream\x04test\x00\x00\x01\x00\x01")


def answer(records, flags=b"\x81\x80", qid=b"\x12\x34", questions=1):
    """An answer to QUERY: its question (questions times), then `records` (each bytes)."""
    head = qid + flags + bytes([0, questions, 0, len(records), 0, 0, 0, 0])
    return head + QUERY[12:] * questions + b"".join(records)


def a_record(address, name=b"\xc0\x0c", size=4):
    return name + b"\x00\x01\x00\x01\x00\x00\x00\x3c" + bytes([0, size]) + bytes(address)


def cname(target):
    return b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c" + bytes([0, len(target)]) + target


def parse_bytes(data, qid=QID):
    buf = bytearray(BUF_SIZE)
    buf[:len(data)] = data
    return parse(buf, len(data), qid)


def error_of(data, qid=QID):
    try:
        parse_bytes(data, qid)
    except ValueError as err:
        return str(err)
    raise AssertionError("no ValueError for %r" % (data,))


def test_the_query_for_an_a_record():
    buf = bytearray(BUF_SIZE)
    n = query(buf, QID, "deepstream.test")
    assert bytes(buf[:n]) == QUERY
    assert query(buf, QID, b"deepstream.test.") == n and bytes(buf[:n]) == QUERY  # trailing dot


def test_names_that_cannot_be_asked_for():
    buf = bytearray(BUF_SIZE)
    for name in ("", ".", "a..b", ".a", "x" * 64 + ".test", ("a" * 63 + ".") * 4 + "b" * 10):
        try:
            query(buf, QID, name)
        except ValueError as err:
            assert "not a host name" in str(err)
        else:
            raise AssertionError("query() took %r" % name)
    assert query(buf, QID, "x" * 63 + ".test") == 12 + 1 + 63 + 1 + 4 + 1 + 4


def test_an_answer_gives_its_address():
    assert parse_bytes(answer([a_record((10, 0, 2, 2))])) == "10.0.2.2"
    # a CNAME first: the A record of its target follows in the same answer
    target = b"\x04real\xc0\x17"
    assert parse_bytes(answer([cname(target), a_record((192, 0, 2, 7), name=b"\xc0\x2d")])) == "192.0.2.7"
    # a name written out instead of a pointer
    assert parse_bytes(answer([a_record((1, 2, 3, 4), name=QUERY[12:-4])])) == "1.2.3.4"


def test_what_the_server_says_is_said():
    assert "no such name" in error_of(answer([], flags=b"\x81\x83"))
    assert "server failure" in error_of(answer([], flags=b"\x81\x82"))
    assert "refused" in error_of(answer([], flags=b"\x81\x85"))
    assert "error 9" in error_of(answer([], flags=b"\x81\x89"))
    assert "no IPv4 address" in error_of(answer([cname(b"\x04real\x00")]))
    assert "truncated answer (TC)" in error_of(answer([], flags=b"\x83\x80"))


def test_answers_that_are_not_for_us():
    assert "another query" in error_of(answer([a_record((1, 2, 3, 4))], qid=b"\x43\x21"))
    assert "not an answer" in error_of(QUERY)  # a query sent back
    buf = bytearray(b"\x43\x21")
    assert answer_id(buf, 2) == 0x4321 and answer_id(buf, 1) == -1


def test_malformed_answers():
    assert "malformed" in error_of(answer([a_record((1, 2, 3, 4), size=16) + bytes(12)]))
    assert "malformed" in error_of(answer([b"\x40" + a_record((1, 2, 3, 4))]))  # label type 01
    # a name of one-byte labels that never ends (no zero, no pointer) within the answer
    assert "truncated" in error_of(answer([b"\x01a" * 100]))


def test_every_truncation_is_said_to_be_one():
    full = answer([cname(b"\x04real\xc0\x17"), a_record((192, 0, 2, 7), name=b"\xc0\x2d")])
    for n in range(len(full)):
        text = error_of(full[:n])
        assert "truncated" in text or "another query" in text, (n, text)


def test_random_bytes_never_raise_anything_but_value_error():
    seed = 12345
    buf = bytearray(BUF_SIZE)
    good = answer([a_record((10, 0, 2, 2))])
    for _ in range(300):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        n = 12 + seed % 60
        buf[:len(good)] = good
        for i in range(2, n):  # keep the id: everything after it is noise
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            if seed % 3 == 0:
                buf[i] = seed >> 8 & 0xFF
        try:
            parse(buf, n, QID)
        except ValueError:
            pass


def test_the_resolver_address():
    from deepstream.ws_handshake import dns_server
    assert server_address("10.0.2.3") == ("10.0.2.3", 53)
    assert server_address("10.0.2.2:5353") == ("10.0.2.2", 5353)
    assert dns_server("10.0.2.2:5353") == "10.0.2.2:5353"
    assert dns_server(None) is None  # no network module here: getaddrinfo()'s job
