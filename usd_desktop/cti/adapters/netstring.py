"""Netstrings (``<decimal length>:<bytes>,``), the framing of baresip's ``ctrl_tcp`` protocol.

:func:`encode` frames one payload; :class:`NetstringDecoder` takes the bytes of a stream as they
arrive (in any pieces) and returns the complete payloads. A malformed stream (a length that is not
decimal, too long, or a payload not followed by ``,``) raises :class:`NetstringError`: the stream
cannot be resynchronised, so the connection must be dropped.
"""

from __future__ import annotations

#: The largest payload accepted (baresip's replies are a few kilobytes at most).
MAX_LENGTH = 1 << 20
_MAX_DIGITS = len(str(MAX_LENGTH))


class NetstringError(ValueError):
    """The stream is not a sequence of netstrings."""


def encode(payload: bytes) -> bytes:
    """``payload`` as one netstring."""
    return b"%d:%s," % (len(payload), payload)


class NetstringDecoder:
    """Incremental decoder: :meth:`feed` bytes, get the payloads completed so far."""

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """How many bytes of an incomplete netstring are waiting for the rest."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        payloads: list[bytes] = []
        while self._buffer:
            colon = self._buffer.find(b":", 0, _MAX_DIGITS + 2)
            if colon < 0:
                if len(self._buffer) > _MAX_DIGITS or not self._buffer.isdigit():
                    raise NetstringError(f"bad netstring length {bytes(self._buffer[:16])!r}")
                break  # the length is still arriving
            digits = bytes(self._buffer[:colon])
            if not digits.isdigit() or (len(digits) > 1 and digits.startswith(b"0")):
                raise NetstringError(f"bad netstring length {digits!r}")
            length = int(digits)
            if length > self.max_length:
                raise NetstringError(f"netstring of {length} bytes is longer than {self.max_length}")
            end = colon + 1 + length
            if len(self._buffer) <= end:
                break  # the payload (or its comma) is still arriving
            if self._buffer[end] != ord(","):
                raise NetstringError(f"netstring of {length} bytes not followed by ','")
            payloads.append(bytes(self._buffer[colon + 1:end]))
            del self._buffer[:end + 1]
        return payloads
