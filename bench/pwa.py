"""The inspector PWA's photo pipeline in headless Chromium: compression cost and upload airtime.

Prints the bytes sent per 12 MP photo and the time to compress one with the CPU slowed 4× (aims:
under 700 KB and under 1.5 s), and the time to drain a 12-photo visit over a 1 Mbit/s link.
"""

import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import make_server  # noqa: E402

from backend.extensions import db  # noqa: E402
from backend.services.checklists.templates import load_templates  # noqa: E402
from bench.common import bench_app  # noqa: E402
from tests import factories  # noqa: E402
from tests.images import make_jpeg  # noqa: E402

CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-sandbox"]
PHOTOS = 12
MBIT = 1_000_000 / 8

COMPRESS = """async () => {
    const camera = await import('/static/app/camera.js');
    const file = document.querySelector('#bench').files[0];
    const t0 = performance.now();
    const out = await camera.compress(file);
    return {ms: performance.now() - t0, bytes: out.bytes.byteLength, w: out.width, h: out.height,
            original: out.originalBytes};
}"""

QUEUE = """async ([householdId, index]) => {
    const camera = await import('/static/app/camera.js');
    const outbox = await import('/static/app/outbox.js');
    const file = document.querySelector('#bench').files[0];
    const out = await camera.compress(file);
    const sha = await camera.sha256Hex(out.bytes);
    await outbox.addPhoto({id: camera.uuid(), household_id: householdId, phase: 'during',
        node: 'wall', item: null, captured_at: new Date().toISOString(), lat: 39.52, lon: 112.81,
        accuracy_m: 10, fix_at: new Date().toISOString(), label: `bench ${index}`}, out.bytes, sha);
    return out.bytes.byteLength;
}"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, bench_app(None) as app:
        load_templates(db.session)
        world = factories.world(db.session)
        household_id = world.households[world.village_a1].id
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        shots = []
        for i in range(PHOTOS):
            path = Path(tmp) / f"12mp-{i}.jpg"
            path.write_bytes(make_jpeg(4000, 3000, seed=i, pattern="noisy", quality=92,
                                       make="Xiaomi"))
            shots.append(path)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN")
            page = context.new_page()
            page.goto(f"{url}/app/")
            page.fill("#username", "inspector")
            page.fill("#password", factories.PASSWORD)
            page.click("#login button[type=submit]")
            page.wait_for_selector("text=我的农户")
            page.evaluate("""() => { const i = document.createElement('input'); i.type = 'file';
                i.id = 'bench'; document.body.appendChild(i); }""")
            cdp = context.new_cdp_session(page)

            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            runs = []
            for path in shots[:5]:
                page.set_input_files("#bench", str(path))
                runs.append(page.evaluate(COMPRESS))
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            ms = statistics.median(r["ms"] for r in runs)
            each = ", ".join(f"{r['ms'] / 1000:.2f}" for r in runs)
            sent = statistics.median(r["bytes"] for r in runs)
            original = statistics.median(r["original"] for r in runs)
            print(f"12 MP photo (4000×3000, {original / 1e6:.1f} MB) → "
                  f"{runs[0]['w']}×{runs[0]['h']}, median {sent / 1024:.0f} KB sent "
                  f"({original / sent:.1f}× smaller)  aim < 700 KB: "
                  f"{'ok' if sent < 700 * 1024 else 'MISSED'}")
            print(f"compress one with CPU 4× slower: median {ms / 1000:.2f} s "
                  f"(runs {each})  aim < 1.5 s: "
                  f"{'ok' if ms < 1500 else 'MISSED'}")

            context.set_offline(True)
            total = 0
            for i, path in enumerate(shots):
                page.set_input_files("#bench", str(path))
                total += page.evaluate(QUEUE, [household_id, i])
            context.set_offline(False)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": 150, "downloadThroughput": MBIT,
                "uploadThroughput": MBIT})
            t0 = time.perf_counter()
            page.evaluate("""async () => {
                const outbox = await import('/static/app/outbox.js');
                while (outbox.isDraining()) await new Promise(r => setTimeout(r, 50));
                await outbox.drain();
            }""")
            seconds = time.perf_counter() - t0
            left = page.evaluate("window.app.outbox.summary()")
            print(f"drain a {PHOTOS}-photo visit ({total / 1e6:.1f} MB) at 1 Mbit/s, 150 ms RTT: "
                  f"{seconds:.1f} s ({total * 8 / seconds / 1e6:.2f} Mbit/s effective), "
                  f"{left['photos']} left")
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
