"""Procedurally drawn village houses for the reuse checks: one style and one angle (a walled
one-storey house seen from the front, as inspectors frame them), with walls, roof, windows,
door, trees, sky, lighting and grain varied by seed. Distinct seeds are distinct houses that a
whole-image hash finds alike; `crop` and friends make the copies a fraud would file."""

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

WALLS = [(196, 180, 160), (210, 205, 195), (180, 120, 100), (225, 215, 190), (160, 150, 140),
         (200, 170, 130)]
ROOFS = [(90, 60, 50), (60, 70, 90), (120, 50, 40), (70, 70, 70), (140, 90, 60)]


def draw_house(seed: int, size: tuple[int, int] = (1024, 768)) -> Image.Image:
    """Return one house photo; the same seed gives the same house."""
    rng = np.random.default_rng(seed)
    w, h = size
    sky_top = np.array([rng.integers(90, 150), rng.integers(140, 190), rng.integers(200, 250)])
    sky = np.linspace(sky_top, sky_top + rng.integers(20, 60), h)[:, None, :]
    arr = np.repeat(sky, w, axis=1)
    horizon = int(h * rng.uniform(0.62, 0.72))
    ground = np.array([rng.integers(110, 160), rng.integers(100, 140), rng.integers(70, 100)])
    arr[horizon:] = ground
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 4)):  # hills or far trees along the horizon
        cx = rng.integers(0, w)
        d.ellipse((cx - w // 4, horizon - rng.integers(40, 140), cx + w // 4, horizon + 40),
                  fill=tuple(int(c) for c in rng.integers(60, 120, 3) * (0.6, 1.0, 0.6)))
    left = int(w * rng.uniform(0.16, 0.3))
    right = int(w * rng.uniform(0.7, 0.84))
    eaves = int(h * rng.uniform(0.36, 0.46))
    base = horizon + int(h * rng.uniform(0.02, 0.08))
    wall = WALLS[rng.integers(len(WALLS))]
    d.rectangle((left, eaves, right, base), fill=tuple(int(c + rng.integers(-15, 16))
                                                        for c in wall))
    for y in range(eaves, base, int(rng.integers(10, 22))):  # brick courses
        d.line((left, y, right, y), fill=tuple(int(c * 0.85) for c in wall), width=1)
    ridge = eaves - int(h * rng.uniform(0.1, 0.2))
    overhang = int(w * rng.uniform(0.02, 0.06))
    roof = ROOFS[rng.integers(len(ROOFS))]
    if rng.random() < 0.6:
        d.polygon([(left - overhang, eaves), (right + overhang, eaves), ((left + right) // 2,
                   ridge)], fill=roof)
    else:
        inset = int((right - left) * rng.uniform(0.1, 0.3))
        d.polygon([(left - overhang, eaves), (right + overhang, eaves), (right - inset, ridge),
                   (left + inset, ridge)], fill=roof)
    door_w = int((right - left) * rng.uniform(0.1, 0.18))
    door_x = int(rng.uniform(left + door_w, right - 2 * door_w))
    d.rectangle((door_x, base - int((base - eaves) * rng.uniform(0.55, 0.8)), door_x + door_w,
                 base), fill=tuple(int(c) for c in rng.integers(30, 140, 3)))
    for _ in range(rng.integers(1, 4)):
        ww, wh = int((right - left) * rng.uniform(0.08, 0.16)), int((base - eaves) * 0.3)
        x = int(rng.uniform(left + 10, right - ww - 10))
        if abs(x - door_x) < door_w + ww:
            continue
        y = eaves + int((base - eaves) * rng.uniform(0.2, 0.4))
        d.rectangle((x, y, x + ww, y + wh), fill=tuple(int(c) for c in rng.integers(20, 90, 3)),
                    outline=(230, 230, 230), width=3)
    for _ in range(rng.integers(0, 4)):  # trees in front of or beside the house
        tx = int(rng.choice([rng.uniform(0, left), rng.uniform(right, w), rng.uniform(0, w)]))
        crown = int(w * rng.uniform(0.05, 0.11))
        top = horizon - int(h * rng.uniform(0.2, 0.45))
        d.rectangle((tx - 6, top + crown, tx + 6, horizon + 20), fill=(80, 60, 40))
        d.ellipse((tx - crown, top, tx + crown, top + 2 * crown),
                  fill=(int(rng.integers(30, 80)), int(rng.integers(90, 150)), 40))
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    light = np.linspace(rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.2), w)[None, :, None]
    grain = rng.normal(0, rng.uniform(3, 9), (h, w, 1))
    out = np.asarray(img, dtype=np.float64) * light + grain
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def crop(img: Image.Image, left=0.0, top=0.0, right=0.0, bottom=0.0) -> Image.Image:
    """Cut the given fractions off each edge."""
    w, h = img.size
    return img.crop((round(w * left), round(h * top), round(w * (1 - right)),
                     round(h * (1 - bottom))))


def jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()
