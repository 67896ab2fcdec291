"""Benchmark: worst-case decode memory of one gunicorn-like worker taking two large uploads at
once (issue 20: under 300 MB). Each case runs in a fresh process: two threads call
`imaging.prepare_upload` on the same kind of image at the same time; the process's peak RSS
(ru_maxrss) is printed beside its RSS before. PNG, WebP and HEIF at their largest accepted size
(the decode budget), a 60 MP PNG (refused by its declared size) and a 60 MP JPEG (drafted).

    .venv/bin/python bench/decode_memory.py
"""

import io
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MB = 300.0
CASES = ["jpeg-60mp", "png-60mp", "png-rgb-limit", "png-rgba-limit", "webp-limit", "heif-limit"]


def make(case: str) -> bytes:
    import numpy as np
    from PIL import Image

    from backend.services.photos.imaging import DECODE_BUDGET, _decode_cost
    fmt, _, size = case.partition("-")
    mode = "RGBA" if "rgba" in size or fmt == "webp" else "RGB"
    if size.startswith("60mp"):
        w, h = 9000, 6666
    else:
        pixels = DECODE_BUDGET // _decode_cost(fmt, mode) - 1000
        w = int((pixels * 4 / 3) ** 0.5)
        h = pixels // w
    tile = np.random.default_rng(1).integers(0, 256, (64, 64, len(mode)), dtype=np.uint8)
    img = Image.fromarray(np.tile(tile, (h // 64 + 1, w // 64 + 1, 1))[:h, :w], mode)
    buf = io.BytesIO()
    if fmt == "heif":
        from pillow_heif import from_pillow
        from_pillow(img).save(buf, quality=50)
    else:
        img.save(buf, {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[fmt],
                 **({"quality": 50} if fmt != "png" else {"compress_level": 1}))
    return buf.getvalue()


def child(case: str, path: str) -> None:
    from backend.services.errors import DomainError
    from backend.services.photos import imaging
    data = Path(path).read_bytes()  # made by another process: its peak is not counted here
    before = _rss_mb()
    results = []

    def run():
        try:
            facts, _ = imaging.prepare_upload(data)
            results.append(f"ok {facts.width}x{facts.height}")
        except DomainError as exc:
            results.append(f"refused ({exc.code})")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{case}\t{len(data) / 1e6:.1f}\t{before:.0f}\t{peak:.0f}\t{results[0]}")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--make":
        Path(sys.argv[3]).write_bytes(make(sys.argv[2]))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return 0
    print("Two uploads decoded at once in one process (the machine may be shared: "
          "figures are noisy)")
    print(f"  {'case':16s} {'MB':>5s} {'RSS before':>10s} {'peak RSS':>9s}  result")
    worst = 0.0
    tmp = tempfile.TemporaryDirectory(prefix="bench-decode-")
    for case in CASES:
        path = str(Path(tmp.name) / case)
        subprocess.run([sys.executable, __file__, "--make", case, path], cwd=ROOT, check=True)
        out = subprocess.run([sys.executable, __file__, "--child", case, path],
                             capture_output=True, text=True, cwd=ROOT,
                             check=True).stdout.strip().split("\t")
        name, mb, before, peak, result = out
        worst = max(worst, float(peak))
        print(f"  {name:16s} {mb:>5s} {before:>8s}MB {peak:>7s}MB  {result}")
    print(f"  worst peak RSS {worst:.0f} MB: {'met' if worst < TARGET_MB else 'MISSED'} "
          f"(aim < {TARGET_MB:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
