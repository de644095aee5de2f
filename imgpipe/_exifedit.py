"""Byte-level, length-preserving edits of an EXIF (TIFF) block.

The block is never re-serialised: every byte that is not edited keeps its offset, so offsets that we do
not understand (maker notes point into the block from inside their own opaque data) stay valid.

* Dropping GPS removes the GPS-pointer entry (0x8825) from IFD0, shifting the later entries of IFD0 up
  by 12 bytes (the IFD's next-pointer moves with them; the freed 12 bytes become zero), and overwrites
  the GPS IFD and its out-of-line values with zeros, except bytes that another IFD also uses.
* Setting the orientation rewrites the value of an inline SHORT 0x0112 entry.
* Pixel dimensions rewrite inline PixelXDimension/PixelYDimension (0xA002/0xA003) of the Exif IFD.
* Dropping IFD1 (the embedded thumbnail) sets IFD0's next-IFD pointer to 0.

Anything malformed (out-of-range offsets, unknown types, huge counts) is left untouched: an edit that
cannot be done safely is skipped, never guessed.
"""

from __future__ import annotations

import struct

__all__ = ["edit_tiff", "split_exif_payload"]

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_MAX_ENTRIES = 1024
_GPS = 0x8825
_EXIF = 0x8769
_INTEROP = 0xA005
_ORIENTATION = 0x0112
_PIXEL_X = 0xA002
_PIXEL_Y = 0xA003

_Range = tuple[int, int]


class _Entry:
    __slots__ = ("pos", "tag", "type", "count", "value_pos", "value_len")

    def __init__(self, pos: int, tag: int, type_: int, count: int, value_pos: int, value_len: int) -> None:
        self.pos = pos
        self.tag = tag
        self.type = type_
        self.count = count
        self.value_pos = value_pos  # where the value bytes are (inline: pos + 8)
        self.value_len = value_len


class _Tiff:
    def __init__(self, block: bytearray, order: str) -> None:
        self.b = block
        self.o = order
        self.u16 = struct.Struct(order + "H")
        self.u32 = struct.Struct(order + "L")

    def ifd(self, off: int) -> tuple[list[_Entry], int] | None:
        """Entries of the IFD at ``off`` and the position of its next-IFD pointer, or None if broken."""
        b = self.b
        if off < 8 or off + 2 > len(b):
            return None
        count = self.u16.unpack_from(b, off)[0]
        if count > _MAX_ENTRIES or off + 2 + 12 * count + 4 > len(b):
            return None
        entries = []
        for i in range(count):
            pos = off + 2 + 12 * i
            tag, typ, cnt = struct.unpack_from(self.o + "HHL", b, pos)
            size = _TYPE_SIZE.get(typ, 0) * cnt
            if size <= 4:
                vpos = pos + 8
            else:
                vpos = self.u32.unpack_from(b, pos + 8)[0]
                if vpos + size > len(b):
                    size = 0  # broken value: not ours to protect or clear
            entries.append(_Entry(pos, tag, typ, cnt, vpos, size))
        return entries, off + 2 + 12 * count

    def pointer(self, entry: _Entry) -> int | None:
        if entry.type in (4, 13) and entry.count == 1:
            return int(self.u32.unpack_from(self.b, entry.pos + 8)[0])
        return None

    @staticmethod
    def ranges(off: int, entries: list[_Entry], next_pos: int) -> list[_Range]:
        out = [(off, next_pos + 4)]
        for e in entries:
            if e.value_len > 4:
                out.append((e.value_pos, e.value_pos + e.value_len))
        return out


def _subtract(span: _Range, keep: list[_Range]) -> list[_Range]:
    parts = [span]
    for k0, k1 in keep:
        nxt = []
        for a, b in parts:
            if k1 <= a or k0 >= b:
                nxt.append((a, b))
                continue
            if a < k0:
                nxt.append((a, k0))
            if k1 < b:
                nxt.append((k1, b))
        parts = nxt
    return parts


def split_exif_payload(payload: bytes) -> bytes | None:
    """The TIFF block of an EXIF payload (``Exif\\0\\0`` prefix removed), or None if it is not one."""
    if payload[:6] == b"Exif\x00\x00":
        payload = payload[6:]
    if payload[:4] in (b"II*\x00", b"MM\x00*"):
        return payload
    return None


def edit_tiff(
    block: bytearray,
    *,
    drop_gps: bool = False,
    orientation: int | None = None,
    pixel_size: tuple[int, int] | None = None,
    drop_ifd1: bool = False,
) -> bool:
    """Edit the TIFF/EXIF ``block`` in place (its length never changes); return True if a byte changed."""
    if len(block) < 8 or bytes(block[:4]) not in (b"II*\x00", b"MM\x00*"):
        return False
    t = _Tiff(block, "<" if block[:2] == b"II" else ">")
    ifd0_off = t.u32.unpack_from(block, 4)[0]
    parsed = t.ifd(ifd0_off)
    if parsed is None:
        return False
    ifd0, next0 = parsed
    before = bytes(block)

    if orientation is not None:
        for e in ifd0:
            if e.tag == _ORIENTATION and e.type == 3 and e.count == 1:
                block[e.pos + 8 : e.pos + 12] = t.u16.pack(orientation) + b"\x00\x00"

    exif_ifd = None
    for e in ifd0:
        if e.tag == _EXIF:
            off = t.pointer(e)
            exif_ifd = (off, t.ifd(off)) if off is not None else None
    if pixel_size is not None and exif_ifd is not None and exif_ifd[1] is not None:
        for e in exif_ifd[1][0]:
            value = pixel_size[0] if e.tag == _PIXEL_X else pixel_size[1] if e.tag == _PIXEL_Y else None
            if value is None or e.count != 1:
                continue
            if e.type == 3 and value <= 0xFFFF:
                block[e.pos + 8 : e.pos + 12] = t.u16.pack(value) + b"\x00\x00"
            elif e.type == 4:
                block[e.pos + 8 : e.pos + 12] = t.u32.pack(value)

    if drop_gps:
        gps_index = next((i for i, e in enumerate(ifd0) if e.tag == _GPS), None)
        if gps_index is not None:
            # Bytes other IFDs use are protected from clearing (a block may share value storage).
            keep: list[_Range] = [(0, 8)]
            keep += t.ranges(ifd0_off, ifd0, next0)
            if exif_ifd is not None and exif_ifd[1] is not None:
                entries, nxt = exif_ifd[1]
                keep += t.ranges(exif_ifd[0], entries, nxt)
                for e in entries:
                    if e.tag == _INTEROP:
                        off = t.pointer(e)
                        sub = t.ifd(off) if off is not None else None
                        if off is not None and sub is not None:
                            keep += t.ranges(off, *sub)
            ifd1_off = t.u32.unpack_from(block, next0)[0]
            ifd1 = t.ifd(ifd1_off) if ifd1_off else None
            if ifd1 is not None:
                keep += t.ranges(ifd1_off, *ifd1)
            gps_off = t.pointer(ifd0[gps_index])
            gps = t.ifd(gps_off) if gps_off is not None else None
            if gps_off is not None and gps is not None:
                for a, b in t.ranges(gps_off, *gps):
                    for x, y in _subtract((a, b), keep):
                        block[x:y] = bytes(y - x)
            # Remove the pointer entry from IFD0: shift later entries and the next pointer up by 12.
            pos = ifd0[gps_index].pos
            end = next0 + 4
            block[pos : end - 12] = block[pos + 12 : end]
            block[end - 12 : end] = bytes(12)
            block[ifd0_off : ifd0_off + 2] = t.u16.pack(len(ifd0) - 1)
            next0 -= 12

    if drop_ifd1:
        block[next0 : next0 + 4] = b"\x00\x00\x00\x00"
    return bytes(block) != before
