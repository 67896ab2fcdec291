// JPEG structure helpers: read size and orientation, carry the camera's EXIF block into the
// compressed copy with the orientation reset to 1 (the pixels are already drawn upright).

export function readJpegInfo(buffer) {
  const v = new DataView(buffer);
  const info = { width: 0, height: 0, orientation: 1, app1: null };
  if (v.byteLength < 4 || v.getUint16(0) !== 0xffd8) return null;
  let pos = 2;
  while (pos + 4 <= v.byteLength) {
    if (v.getUint8(pos) !== 0xff) return info;
    const marker = v.getUint8(pos + 1);
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { pos += 2; continue; }
    if (marker === 0xff) { pos += 1; continue; }
    const len = v.getUint16(pos + 2);
    if (marker === 0xe1 && !info.app1 && isExif(v, pos + 4)) {
      info.app1 = new Uint8Array(buffer.slice(pos, pos + 2 + len));
      info.orientation = orientation(new DataView(info.app1.buffer), false) || 1;
    }
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      info.height = v.getUint16(pos + 5);
      info.width = v.getUint16(pos + 7);
      return info;
    }
    if (marker === 0xda || marker === 0xd9) return info;
    pos += 2 + len;
  }
  return info;
}

function isExif(v, at) {
  return at + 6 <= v.byteLength && v.getUint32(at) === 0x45786966 && v.getUint16(at + 4) === 0;
}

// Find IFD0's orientation tag in an APP1 segment; read it, or set it to 1 when reset is true.
function orientation(seg, reset) {
  try {
    const tiff = 10;
    const little = seg.getUint16(tiff) === 0x4949;
    const ifd = tiff + seg.getUint32(tiff + 4, little);
    const count = seg.getUint16(ifd, little);
    for (let i = 0; i < count; i++) {
      const entry = ifd + 2 + i * 12;
      if (seg.getUint16(entry, little) === 0x0112) {
        if (reset) seg.setUint16(entry + 8, 1, little);
        return seg.getUint16(entry + 8, little);
      }
    }
  } catch (e) { /* a broken EXIF block is carried as it is */ }
  return null;
}

export function withExif(jpeg, app1) {
  if (!app1) return jpeg;
  const seg = new Uint8Array(app1);
  orientation(new DataView(seg.buffer), true);
  const src = new Uint8Array(jpeg);
  const out = new Uint8Array(src.length + seg.length);
  out.set(src.subarray(0, 2), 0);
  out.set(seg, 2);
  out.set(src.subarray(2), 2 + seg.length);
  return out.buffer;
}
