"""An upload's image format, named from its first bytes (never its name or declared type), and
the canvas size a WebP declares before libwebp allocates it. Pure: no Flask, no database."""

import struct

_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}
_AV1_BRANDS = {b"avif", b"avis"}


def sniff_format(head: bytes) -> str | None:
    """Name the image format from its first bytes: jpeg, png, webp, heif, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    brands = _ftyp_brands(head)
    if brands & _HEVC_BRANDS or (brands & _HEIF_BRANDS and not brands & _AV1_BRANDS):
        return "heif"
    return None


def _ftyp_brands(head: bytes) -> set[bytes]:
    if head[4:8] != b"ftyp" or len(head) < 12:
        return set()
    end = min(len(head), max(16, struct.unpack(">I", head[:4])[0]))
    return {head[8:12]} | {head[i:i + 4] for i in range(16, end - 3, 4)}


def webp_size(head: bytes) -> tuple[int, int] | None:
    # The canvas size from the first chunk's header, as WebPImagePlugin reads it.
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8X" and len(head) >= 30:
        w = int.from_bytes(head[24:27], "little") + 1
        return w, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
