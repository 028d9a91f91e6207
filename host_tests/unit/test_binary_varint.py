"""Varints of the binary codec: int32 versions (negative ones are ten bytes),
message lengths of one to three bytes, bad input, and decoding small
negatives without long ints.

Also run on a 32-bit MicroPython VM (host_tests/test_binary_varint_32bit.py):
there small ints end at 2**30, where the 64-bit unix port has 2**62 of room."""
from deepstream.binary_codec import ParseError, _decode, _frame_at, _int32_len, _put_int32, _varint, encode

INT32 = (0, 1, 127, 128, 300, 16383, 16384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 30 - 1, 2 ** 30, 2 ** 31 - 1,
         -1, -2, -127, -128, -1000, -2 ** 28, -2 ** 30, -2 ** 30 - 1, -2 ** 31)


def varint(hex_text):
    data = bytes.fromhex(hex_text)
    return _varint(data, 0, len(data))


def put(n):
    buf = bytearray(12)
    return bytes(buf[:_put_int32(buf, 0, n)])


def raises(fn, *args):
    try:
        fn(*args)
    except ParseError as err:
        return str(err)
    raise AssertionError("no ParseError")


def test_int32_round_trip():
    for n in INT32:
        data = put(n)
        assert len(data) == _int32_len(n), n
        assert _varint(data + b"\x99", 0, len(data) + 1) == (n, len(data)), n


def test_int32_wire_form():
    assert put(0) == b"\x00" and put(127) == b"\x7f" and put(128) == b"\x80\x01"
    assert put(300) == b"\xac\x02" and put(2 ** 31 - 1) == b"\xff\xff\xff\xff\x07"
    # a negative int32 is sign-extended to 64 bits: ten bytes, as protobufjs writes it
    assert put(-1) == bytes.fromhex("ffffffffffffffffff01")
    assert put(-2) == bytes.fromhex("feffffffffffffffff01")
    assert put(-2 ** 31) == bytes.fromhex("80808080f8ffffffff01")


def test_decoding_in_the_middle_of_a_buffer():
    data = bytes.fromhex("aa" "ac02" "ffffffffffffffffff01" "05")
    assert _varint(data, 1, len(data)) == (300, 3)
    assert _varint(data, 3, len(data)) == (-1, 13)
    assert _varint(data, 13, len(data)) == (5, 14)


def test_message_lengths_of_one_two_and_three_bytes():
    # (a module of few imports: a 16 KB message leaves room for nothing else at 144K)
    for size, prefix in ((100, 1), (200, 2), (16400, 3)):
        wire = encode(4, 2, "big", "x" * size)
        start, n = _frame_at(wire, 0)
        length, i = _varint(wire, start, start + n)
        assert i - start == prefix and length == n - prefix, size
        m = _decode(wire, start, start + n)
        assert (m.topic, m.action, m.name, m.data.count("x")) == (4, 2, "big", size), size
        wire = m = None


def test_bad_varints_are_parse_errors():
    assert raises(varint, "") == "truncated varint"
    assert raises(varint, "80") == "truncated varint"
    assert raises(varint, "ffffffffffffffffff") == "truncated varint"  # nine bytes, all continued
    assert raises(varint, "ffffffffffffffffffff01") == "varint longer than 10 bytes"
    data = bytes.fromhex("ac02")
    assert raises(_varint, data, 0, 1) == "truncated varint"  # the end given, not the buffer's


def test_small_negatives_decode_without_allocating():
    import gc
    if not hasattr(gc, "mem_alloc"):
        import pytest
        pytest.skip("MicroPython only: gc.mem_alloc() with the collector off counts every allocation")
    spent = {}
    for n in (5, -1, -2, -1000, -2 ** 20):
        data = put(n)
        gc.collect()
        gc.disable()
        try:
            before = gc.mem_alloc()
            value = _varint(data, 0, len(data))
            spent[n] = gc.mem_alloc() - before
        finally:
            gc.enable()
        assert value == (n, len(data))
    # the (value, index) tuple is all a one-byte varint costs; a ten-byte -1 costs the
    # same (a long int for its 64 bits would add its own blocks)
    assert spent[-1] == spent[-2] == spent[-1000] == spent[-2 ** 20] == spent[5], spent
