"""The one member of a Lean trade zip, read without :mod:`zipfile`'s per-archive overhead.

Lean's trade zips hold one CSV each, deflated (or stored), with no archive comment and no zip64
records. :func:`single_member` reads such an archive straight from its bytes: the end record, the
central directory entry and the local header are checked, the member is inflated with :mod:`zlib`
and its size and CRC-32 are compared with the directory's. Anything else (another layout, a damaged
archive, a wrong CRC) gives None, and the caller reads the file with :mod:`zipfile`, which accepts
every valid archive and names what is wrong with a damaged one.
"""

from __future__ import annotations

import struct
import zlib

_END = struct.Struct("<4s4H2LH")  # end of central directory record (22 bytes)
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # central directory file header (46 bytes)
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header (30 bytes)
_END_SIGNATURE = b"PK\x05\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_LOCAL_SIGNATURE = b"PK\x03\x04"
_UNSUPPORTED = 0x0001 | 0x0020 | 0x0040  # encrypted, patched data, strong encryption
_STORED, _DEFLATED = 0, 8


def single_member(archive: bytes) -> bytes | None:
    """The uncompressed bytes of the only file in the zip ``archive`` (its whole bytes), or None
    when the archive is not a plain one-file zip (comment, zip64, encryption, several members, a
    compression other than deflate) or does not check out (truncated, bad stream, size or CRC-32
    not the directory's)."""
    end = len(archive) - _END.size
    if end < 0:
        return None
    signature, disk, directory_disk, here, total, directory_size, directory_start, comment = \
        _END.unpack_from(archive, end)
    if (signature != _END_SIGNATURE or comment or disk or directory_disk or here != 1 or total != 1
            or directory_start + directory_size != end or directory_size < _CENTRAL.size):
        return None
    (signature, _, _, flags, method, _, _, crc, packed, size, name_size, extra_size, note_size, _, _,
     _, offset) = _CENTRAL.unpack_from(archive, directory_start)
    if (signature != _CENTRAL_SIGNATURE or flags & _UNSUPPORTED or method not in (_STORED, _DEFLATED)
            or directory_size != _CENTRAL.size + name_size + extra_size + note_size
            or offset + _LOCAL.size > directory_start):
        return None
    name = archive[directory_start + _CENTRAL.size:directory_start + _CENTRAL.size + name_size]
    signature, _, _, _, _, _, _, _, _, local_name_size, local_extra_size = _LOCAL.unpack_from(archive, offset)
    name_start = offset + _LOCAL.size
    begin = name_start + local_name_size + local_extra_size
    if (signature != _LOCAL_SIGNATURE or archive[name_start:name_start + local_name_size] != name
            or begin + packed > directory_start):
        return None
    body = memoryview(archive)[begin:begin + packed]
    try:
        data = bytes(body) if method == _STORED else zlib.decompress(body, -zlib.MAX_WBITS, max(size, 1))
    except zlib.error:
        return None
    if len(data) != size or zlib.crc32(data) != crc:
        return None
    return data
