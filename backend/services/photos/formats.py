"""An upload's image format, named from its first bytes (never its name or declared type), and
the canvas size a WebP declares before libwebp allocates it. Pure: no Flask, no database."""

import math
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


# Start-of-frame markers of Huffman-coded JPEGs (baseline, extended, progressive, lossless and
# their hierarchical forms); arithmetic-coded frames (C9-CB, CD-CF) can spend less than a bit a
# block and are not measured.
_HUFFMAN_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7}


def jpeg_scan_too_short(data: bytes) -> bool:
    """Whether a JPEG's compressed data is too short to hold the frame its header declares.

    libjpeg fills the blocks after a premature end with grey and only warns, so a header that
    claims 640x480 over 16x16 worth of data would decode. Every block of the first component
    costs at least one Huffman-coded bit in the first scan that holds it (its DC code), so fewer
    bytes after the first scan's header than an eighth of its blocks cannot be a whole image."""
    frame, pos = None, 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in _HUFFMAN_SOF or (0xC8 < marker <= 0xCF and marker not in (0xCC,)):
            frame = (marker, data[pos + 4:pos + 2 + length])
        if marker == 0xDA:
            return frame is not None and frame[0] in _HUFFMAN_SOF and \
                len(data) - (pos + 2 + length) < _first_component_blocks(frame[1]) / 8
        pos += 2 + length
    return False


def _first_component_blocks(sof: bytes) -> int:
    if len(sof) < 9:
        return 0
    height, width, count = struct.unpack(">HHB", sof[1:6])
    samplings = [sof[7 + 3 * i] for i in range(count) if 8 + 3 * i < len(sof)]
    if not samplings:
        return 0
    h_max = max(s >> 4 for s in samplings) or 1
    v_max = max(s & 0xF for s in samplings) or 1
    w = math.ceil(width * (samplings[0] >> 4) / h_max)
    h = math.ceil(height * (samplings[0] & 0xF) / v_max)
    return math.ceil(w / 8) * math.ceil(h / 8)
