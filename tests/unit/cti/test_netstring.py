"""The netstring codec of baresip's ctrl_tcp protocol (pure: no baresip, no sockets)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usd_desktop.cti.adapters.netstring import MAX_LENGTH, NetstringDecoder, NetstringError, encode


def test_encode() -> None:
    assert encode(b"") == b"0:,"
    assert encode(b"hello") == b"5:hello,"
    command = json.dumps({"command": "dial", "params": "sip:b@127.0.0.1:5080", "token": "1"}).encode()
    assert encode(command) == str(len(command)).encode() + b":" + command + b","


def test_decoder_returns_complete_payloads_only() -> None:
    decoder = NetstringDecoder()
    assert decoder.feed(b"5:hel") == []
    assert decoder.pending == 5
    assert decoder.feed(b"lo") == []  # the comma is still missing
    assert decoder.feed(b",3:abc,1") == [b"hello", b"abc"]
    assert decoder.feed(b"0:0123456789,0:,") == [b"0123456789", b""]
    assert decoder.pending == 0


def test_payloads_may_hold_colons_commas_and_any_bytes() -> None:
    decoder = NetstringDecoder()
    payload = b'{"data":"a:b,c","x":"\xc3\xa9\x00"}'
    assert decoder.feed(encode(payload) * 2) == [payload, payload]


@pytest.mark.parametrize("stream", [
    b"x:abc,",         # not a number
    b":abc,",          # no length
    b"-1:a,",          # negative
    b"05:hello,",      # leading zero
    b"3:abcd",         # no comma after the payload
    b"12345678",       # a length longer than any allowed one, still without its colon
    b"abc",            # no colon and not digits
])
def test_malformed_streams_are_errors(stream: bytes) -> None:
    with pytest.raises(NetstringError):
        NetstringDecoder().feed(stream)


def test_too_long_payloads_are_refused() -> None:
    with pytest.raises(NetstringError, match="longer than 8"):
        NetstringDecoder(max_length=8).feed(b"9:")
    assert NetstringDecoder().feed(encode(b"x" * MAX_LENGTH)) == [b"x" * MAX_LENGTH]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20), st.data())
def test_any_split_of_a_stream_decodes_to_the_same_payloads(payloads: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode(p) for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = NetstringDecoder()
    decoded: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        decoded += decoder.feed(stream[start:end])
    assert decoded == payloads
    assert decoder.pending == 0
