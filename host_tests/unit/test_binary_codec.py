"""The binary codec's encoders, read back by its decoder."""
from binary_helpers import decode, encode, fields_of, payload_of


def test_names_keep_their_order():
    # a message of names has one field per name: the order must survive the sort
    # into field order (MicroPython's sort is not stable)
    names = ["n%d" % i for i in range(12)]
    for topic, action in ((4, 3), (5, 21), (6, 8), (7, 10)):
        m = decode(payload_of(encode(topic, action, {"cid": "0", "names": names})))
        assert m.names == names, (topic, m.names)
