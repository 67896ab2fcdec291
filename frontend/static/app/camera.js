// The phone's position (watchPosition while a visit is open) and photo compression:
// long edge 2048 px, JPEG quality 0.8, decoded straight to the target size, one photo at a time.

import { readJpegInfo, withExif } from "./exif.js";

export const settings = { longEdge: 2048, quality: 0.8, warnAccuracyM: 50 };
export const geo = new EventTarget();
let watchId = null;
let fix = null;
let geoError = null;

export function startPosition() {
  if (watchId !== null || !("geolocation" in navigator)) return;
  watchId = navigator.geolocation.watchPosition((p) => {
    fix = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy,
      fix_at: new Date(p.timestamp).toISOString(), time: p.timestamp };
    geoError = null;
    geo.dispatchEvent(new Event("change"));
  }, (e) => {
    geoError = e.code === 1 ? "未允许定位，请在浏览器设置中允许" : "暂时无法定位";
    geo.dispatchEvent(new Event("change"));
  }, { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 });
}

export function stopPosition() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
}

export const currentFix = () => fix;
export const positionError = () => geoError;

export function onePosition(timeout = 15000) {
  return new Promise((resolve) => {
    if (!("geolocation" in navigator)) return resolve(null);
    navigator.geolocation.getCurrentPosition((p) => resolve({ lat: p.coords.latitude,
      lon: p.coords.longitude, accuracy_m: p.coords.accuracy, fix_at: new Date(p.timestamp).toISOString(),
      time: p.timestamp }), () => resolve(fix), { enableHighAccuracy: true, maximumAge: 10000, timeout });
  });
}

let queue = Promise.resolve();

// Compress one photo; calls are serialised so a cheap phone decodes one image at a time.
export function compress(file) {
  const job = queue.then(() => compressNow(file));
  queue = job.catch(() => {});
  return job;
}

async function compressNow(file) {
  const original = await file.arrayBuffer();
  const info = readJpegInfo(original);
  let w = info?.width, h = info?.height;
  if (info && info.orientation >= 5) [w, h] = [h, w];
  let bitmap;
  if (w && h) {
    const [tw, th] = target(w, h);
    bitmap = await createImageBitmap(file, { resizeWidth: tw, resizeHeight: th,
      resizeQuality: "high", imageOrientation: "from-image" });
  } else {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => null);
    if (!bitmap) throw new Error("无法读取此照片，请使用相机拍摄的 JPEG 照片");
  }
  const [tw, th] = target(bitmap.width, bitmap.height);
  const canvas = document.createElement("canvas");
  canvas.width = tw;
  canvas.height = th;
  canvas.getContext("2d").drawImage(bitmap, 0, 0, tw, th);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", settings.quality));
  canvas.width = canvas.height = 0;
  if (!blob || blob.type !== "image/jpeg") throw new Error("本机浏览器无法生成 JPEG 照片");
  const bytes = withExif(await blob.arrayBuffer(), info?.app1);
  return { bytes, width: tw, height: th, originalBytes: original.byteLength };
}

function target(w, h) {
  const scale = Math.min(1, settings.longEdge / Math.max(w, h));
  return [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))];
}

export async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
