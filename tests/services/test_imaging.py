import io
import itertools
import struct
import time
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile, features

from backend.services.errors import (
    CorruptImage,
    DomainError,
    ImageTooManyPixels,
    UnsupportedImageType,
)
from backend.services.photos import imaging
from backend.services.photos.exif import EXIF_BUDGET, ExifFacts, _exif_cost, read_exif
from tests import images

TAKEN = datetime(2025, 3, 1, 9, 30, 5)
FULL_EXIF = dict(exif_gps=(39.90105, 116.42079, 52.3), taken_at=TAKEN, offset="+08:00",
                 gps_time=datetime(2025, 3, 1, 1, 30, 4), make="HUAWEI", model="ELS-AN00",
                 software="Snapseed 2.0")
MAKERS = {"jpeg": images.make_jpeg, "png": images.make_png, "webp": images.make_webp,
          "heif": images.make_heic}


def open_variant(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def facts_of(**exif_args) -> ExifFacts:
    facts, error = read_exif(images.make_exif(**exif_args).tobytes())
    assert error is None
    return facts


# --- formats -------------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "mime"), [("jpeg", "image/jpeg"), ("png", "image/png"),
                                           ("webp", "image/webp"), ("heif", "image/heic")])
def test_each_accepted_format_is_inspected(fmt, mime):
    data = MAKERS[fmt](320, 240, **FULL_EXIF)
    facts = imaging.inspect_image(data)
    assert (facts.format, facts.mime, facts.width, facts.height) == (fmt, mime, 320, 240)
    assert facts.exif_error is None
    assert facts.exif.gps_lat == pytest.approx(39.90105, abs=1e-6)
    assert facts.exif.gps_lon == pytest.approx(116.42079, abs=1e-6)
    assert facts.exif.make == "HUAWEI"


def test_the_same_picture_hashes_alike_in_every_format():
    hashes = [imaging.inspect_image(make(320, 240, seed=3)).phash for make in MAKERS.values()]
    assert max(imaging.hamming(a, b) for a, b in itertools.combinations(hashes, 2)) <= 4


@pytest.mark.parametrize(("head", "expected"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
    (b"RIFF\x00\x10\x00\x00WEBPVP8 ", "webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heix", "heif"),
    (b"\x00\x00\x00\x14ftypheix\x00\x00\x00\x00mif1", "heif"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", None),
    (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", None),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", None),  # MP4 video
    (b"GIF89a\x01\x00\x01\x00", None),
    (b"%PDF-1.7\n", None),
    (b"II*\x00\x08\x00\x00\x00", None),  # TIFF
    (b"BM\x36\x00\x00\x00", None),
    (b"\xff\xd8", None),
    (b"", None),
])
def test_sniff_format_reads_magic_bytes(head, expected):
    assert imaging.sniff_format(head) == expected


def gif() -> bytes:
    buf = io.BytesIO()
    images.make_image(32, 32).convert("P").save(buf, "GIF")
    return buf.getvalue()


@pytest.mark.parametrize("data", [
    b"", b"hello, this is a text file\n", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)), b"\xff\xd8",
], ids=["empty", "text", "pdf", "random", "two-bytes"])
def test_other_files_are_unsupported(data):
    with pytest.raises(UnsupportedImageType):
        imaging.process_image(data)


def test_gif_and_tiff_are_unsupported():
    buf = io.BytesIO()
    images.make_image(32, 32).save(buf, "TIFF")
    for data in (gif(), buf.getvalue()):
        with pytest.raises(UnsupportedImageType):
            imaging.inspect_image(data)


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_avif_is_unsupported():
    buf = io.BytesIO()
    images.make_image(64, 48).save(buf, "AVIF")
    with pytest.raises(UnsupportedImageType):
        imaging.inspect_image(buf.getvalue())


def test_a_filename_or_content_type_plays_no_part():
    png = images.make_png(64, 48)
    assert imaging.inspect_image(png).format == "png"  # the API takes bytes only


# --- EXIF ----------------------------------------------------------------------------------
def test_exif_is_read_back_from_a_jpeg():
    facts = imaging.inspect_image(images.make_jpeg(**FULL_EXIF, orientation=1))
    exif = facts.exif
    assert exif.taken_at == TAKEN.replace(tzinfo=timezone(timedelta(hours=8)))
    assert exif.taken_at_offset == "+08:00"
    assert exif.gps_alt == pytest.approx(52.3)
    assert exif.gps_time == datetime(2025, 3, 1, 1, 30, 4, tzinfo=UTC)
    assert (exif.make, exif.model, exif.software, exif.orientation) == (
        "HUAWEI", "ELS-AN00", "Snapseed 2.0", 1)
    assert facts.exif_error is None


def test_as_dict_is_json_ready():
    import json

    facts = imaging.inspect_image(images.make_jpeg(**FULL_EXIF))
    out = json.loads(json.dumps(facts.as_dict()))
    assert out["exif"]["taken_at"] == "2025-03-01T09:30:05+08:00"
    assert out["exif"]["gps_time"] == "2025-03-01T01:30:04+00:00"
    assert out["phash"] == imaging.phash_to_hex(facts.phash)


def test_taken_at_without_offset_stays_naive():
    exif = facts_of(taken_at=TAKEN)
    assert exif.taken_at == TAKEN and exif.taken_at.tzinfo is None
    assert exif.taken_at_offset is None


def test_southern_and_western_hemispheres_are_negative():
    exif = facts_of(exif_gps=(-33.8688, -70.6693, -12.0))
    assert exif.gps_lat == pytest.approx(-33.8688, abs=1e-6)
    assert exif.gps_lon == pytest.approx(-70.6693, abs=1e-6)
    assert exif.gps_alt == pytest.approx(-12.0)


@pytest.mark.parametrize("gps", [(95.0, 116.0, None), (39.9, 181.0, None), (0.0, 0.0, None)])
def test_impossible_positions_are_dropped(gps):
    exif = facts_of(exif_gps=gps, make="X")
    assert exif.gps_lat is None and exif.gps_lon is None
    assert exif.make == "X"


def test_impossible_altitude_is_dropped():
    assert facts_of(exif_gps=(39.9, 116.4, 90_000.0)).gps_alt is None


def test_text_fields_are_cleaned_and_capped():
    exif = facts_of(make="  HUAWEI\x00\x00 ", model="\x00", software="S" * 500)
    assert exif.make == "HUAWEI"
    assert exif.model is None
    assert exif.software == "S" * 200


@pytest.mark.parametrize("value", ["0000:00:00 00:00:00", "    :  :     :  :  ",
                                   "2025:02:30 10:00:00", "yesterday"])
def test_impossible_dates_are_dropped(value):
    exif = images.make_exif(make="X")
    exif.get_ifd(images.EXIF_IFD)[0x9003] = value
    facts, error = read_exif(exif.tobytes())
    assert facts.taken_at is None and error is None


def test_bad_offset_is_ignored_and_time_stays_naive():
    exif = facts_of(taken_at=TAKEN, offset="+25:00")
    assert exif.taken_at_offset is None and exif.taken_at.tzinfo is None


@pytest.mark.parametrize("orientation", [0, 9, 300])
def test_orientation_outside_1_to_8_is_dropped(orientation):
    assert facts_of(orientation=orientation).orientation is None


def test_no_exif_is_not_an_error():
    facts = imaging.inspect_image(images.make_jpeg())
    assert facts.exif == ExifFacts() and facts.exif_error is None


@pytest.mark.parametrize("kind", ["garbage", "bad_offset", "bad_entries"])
def test_corrupt_exif_is_flagged_but_the_photo_accepted(kind):
    data = images.corrupt_exif_jpeg(kind, width=400, height=300)
    facts, variants = imaging.process_image(data)
    assert facts.exif_error
    assert facts.exif == ExifFacts()
    assert (facts.width, facts.height) == (400, 300)
    assert set(variants) == {"thumb", "large"}


def test_crafted_exif_cannot_stall_the_parser():
    # 5,000 entries of 999 rationals each: about 14 s inside exifread if it were let in.
    n = 5000
    tiff = b"II*\x00" + struct.pack("<IH", 8, n)
    tiff += struct.pack("<HHII", 0x9000, 5, 999, 16) * n + b"\0" * 64
    data = images.with_app1(images.make_jpeg(64, 64), b"Exif\x00\x00" + tiff)
    started = time.perf_counter()
    facts = imaging.inspect_image(data)
    assert time.perf_counter() - started < 1.0
    assert "too large" in facts.exif_error


def test_real_exif_is_far_under_the_budget():
    tiff = images.make_exif(**FULL_EXIF, orientation=6).tobytes()[6:]
    assert _exif_cost(tiff, EXIF_BUDGET) < 200


# --- orientation and variants --------------------------------------------------------------
# Where the stored top-left corner shows once the orientation is applied.
CORNER = {1: "tl", 2: "tr", 3: "br", 4: "bl", 5: "tl", 6: "tr", 7: "br", 8: "bl"}


def is_red(pixel: tuple[int, int, int]) -> bool:
    return pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def corner_of_marker(img: Image.Image) -> str:
    w, h = img.size
    spots = {"tl": (4, 4), "tr": (w - 5, 4), "bl": (4, h - 5), "br": (w - 5, h - 5)}
    red = [name for name, xy in spots.items() if is_red(img.getpixel(xy))]
    assert len(red) == 1, red
    return red[0]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_variants_are_upright(orientation):
    data = images.make_jpeg(400, 200, orientation=orientation, marker=True, pattern="flat")
    facts, variants = imaging.process_image(data)
    swapped = orientation >= 5
    assert (facts.width, facts.height) == ((200, 400) if swapped else (400, 200))
    assert facts.exif.orientation == orientation
    thumb, large = open_variant(variants["thumb"]), open_variant(variants["large"])
    assert thumb.size == ((160, 320) if swapped else (320, 160))
    assert large.size == (facts.width, facts.height)  # smaller than 1600: not upscaled
    assert corner_of_marker(thumb) == corner_of_marker(large) == CORNER[orientation]


def test_heic_rotation_is_applied_by_the_decoder_once():
    data = images.make_heic(400, 200, orientation=6)
    facts, variants = imaging.process_image(data)
    assert (facts.width, facts.height) == (200, 400)
    assert open_variant(variants["large"]).size == (200, 400)


def test_variants_are_plain_jpegs_with_the_right_long_edge():
    data = images.make_jpeg(2400, 1800, **FULL_EXIF, orientation=1)
    _, variants = imaging.process_image(data)
    assert list(variants) == ["thumb", "large"]
    for name, size in (("thumb", 320), ("large", 1600)):
        img = open_variant(variants[name])
        assert img.format == "JPEG" and img.mode == "RGB"
        assert max(img.size) == size
        assert img.size == (size, size * 3 // 4)
        assert "exif" not in img.info and not img.getexif()
        assert b"Exif\x00\x00" not in variants[name]
        assert b"HUAWEI" not in variants[name]


def test_variants_are_never_upscaled():
    _, variants = imaging.process_image(images.make_jpeg(300, 200))
    assert {name: open_variant(v).size for name, v in variants.items()} == {
        "thumb": (300, 200), "large": (300, 200)}


def test_custom_sizes_come_back_in_the_order_asked():
    variants = imaging.render_variants(images.make_jpeg(1000, 500),
                                       sizes={"small": 100, "medium": 400})
    assert list(variants) == ["small", "medium"]
    assert open_variant(variants["small"]).size == (100, 50)
    assert open_variant(variants["medium"]).size == (400, 200)


def test_bad_sizes_are_a_programming_error():
    with pytest.raises(ValueError):
        imaging.process_image(images.make_jpeg(64, 64), sizes={"thumb": 0})


def test_an_rgb_colour_profile_is_kept_and_nothing_else():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    images.make_image(640, 480).save(buf, "JPEG", icc_profile=icc,
                                     exif=images.make_exif(make="X").tobytes())
    _, variants = imaging.process_image(buf.getvalue())
    assert open_variant(variants["large"]).info.get("icc_profile") == icc
    _, plain = imaging.process_image(images.make_jpeg(640, 480))
    assert "icc_profile" not in open_variant(plain["large"]).info


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "I;16", "1"])
def test_unusual_png_modes_render_without_warnings(mode):
    facts, variants = imaging.process_image(images.make_png(120, 80, mode=mode))
    assert (facts.width, facts.height) == (120, 80)
    assert open_variant(variants["thumb"]).mode == "RGB"


def test_transparent_palette_png_renders_on_white():
    img = Image.new("P", (40, 40), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (20, 0, 40, 40))
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=bytes([0, 255] + [255] * 254))
    thumb = open_variant(imaging.render_variants(buf.getvalue())["thumb"])
    assert min(thumb.getpixel((5, 20))) > 240  # transparent half is white
    assert thumb.getpixel((35, 20))[0] > 200  # opaque half stays red


# --- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize("make_header", [images.png_header, images.jpeg_header],
                         ids=["png", "jpeg"])
def test_a_huge_header_is_refused_fast_without_decoding(make_header, monkeypatch):
    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    started = time.perf_counter()
    with pytest.raises(ImageTooManyPixels) as caught:
        imaging.process_image(make_header(50_000, 50_000))
    assert time.perf_counter() - started < 1.0
    assert caught.value.details == {"width": 50_000, "height": 50_000,
                                    "max_pixels": imaging.MAX_PIXELS}


def test_a_huge_webp_canvas_is_refused_before_libwebp_allocates_it():
    vp8x = struct.pack("<I", 0) + (16383).to_bytes(3, "little") + (16383).to_bytes(3, "little")
    data = b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X" + struct.pack("<I", 10) + vp8x
    with pytest.raises(ImageTooManyPixels) as caught:
        imaging.inspect_image(data)
    assert caught.value.details["width"] == 16384


def test_max_pixels_is_the_callers_choice():
    data = images.make_jpeg(640, 480)
    with pytest.raises(ImageTooManyPixels) as caught:
        imaging.inspect_image(data, max_pixels=300_000)
    assert caught.value.details == {"width": 640, "height": 480, "max_pixels": 300_000}
    assert imaging.inspect_image(data, max_pixels=640 * 480).width == 640


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.99])
def test_truncated_jpeg_is_refused_even_by_a_reduced_decode(fraction, progressive):
    data = images.make_jpeg(2000, 1500, pattern="noisy", progressive=progressive)
    cut = data[:int(len(data) * fraction)]
    for run in (imaging.inspect_image, imaging.process_image):
        with pytest.raises(CorruptImage) as caught:
            run(cut)
        assert "不完整" in caught.value.message


@pytest.mark.parametrize("fmt", ["png", "webp", "heif"])
def test_truncated_other_formats_are_refused(fmt):
    data = MAKERS[fmt](320, 240, pattern="noisy")
    with pytest.raises(CorruptImage):
        imaging.process_image(data[:len(data) * 2 // 3])


def test_garbage_after_a_jpeg_header_is_corrupt():
    data = images.make_jpeg(320, 240)
    scan = [s for s in images.jpeg_segments(data) if s[0] == 0xDA][0][2]
    with pytest.raises(CorruptImage):
        imaging.process_image(data[:scan] + b"\x00" * 10)


# --- perceptual hash -----------------------------------------------------------------------
def reference_phash(img: Image.Image) -> int:
    """imagehash.phash written out with the DCT-II sum, for comparison."""
    x = np.asarray(img.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=float)
    n = np.arange(32)
    basis = np.array([[np.cos(np.pi * k * (2 * i + 1) / 64) for i in n] for k in n])
    rows = np.array([[2 * np.sum(x[:, j] * basis[k]) for j in n] for k in range(8)])
    low = np.array([[2 * np.sum(rows[k] * basis[m]) for m in range(8)] for k in range(8)])
    bits = "".join("1" if v else "0" for v in (low > np.median(low)).flatten())
    return int(bits, 2)


@pytest.mark.parametrize("seed", range(4))
def test_phash_matches_the_textbook_dct(seed):
    img = images.make_image(200, 150, seed=seed)
    assert imaging.phash(img) & ((1 << 64) - 1) == reference_phash(img)


def test_phash_is_signed_64_bit():
    hashes = [imaging.phash(images.make_image(64, 48, seed=s)) for s in range(20)]
    assert all(-(1 << 63) <= h < (1 << 63) for h in hashes)
    assert any(h < 0 for h in hashes)


def test_hash_helpers_work_on_the_signed_form():
    assert imaging.phash_to_hex(-1) == "f" * 16
    assert imaging.phash_to_hex(1) == "0000000000000001"
    assert imaging.hamming(-1, 0) == 64
    assert imaging.hamming(-(1 << 63), 0) == 1
    assert imaging.hamming(5, 5) == 0


@pytest.mark.parametrize("seed", range(6))
def test_a_recompressed_copy_is_a_near_duplicate(seed):
    data = images.make_jpeg(1200, 900, seed=seed, pattern="noisy", quality=90)
    original = imaging.process_image(data)[0].phash
    for scale, quality in ((1.0, 50), (0.5, 70), (0.3, 40)):
        copy = images.near_duplicate(data, scale=scale, quality=quality)
        assert imaging.hamming(original, imaging.inspect_image(copy).phash) <= 6


def test_different_pictures_are_far_apart():
    hashes = [imaging.inspect_image(images.make_jpeg(320, 240, seed=s)).phash for s in range(16)]
    assert min(imaging.hamming(a, b) for a, b in itertools.combinations(hashes, 2)) > 6


def test_rotation_is_undone_before_hashing():
    upright = images.make_image(400, 300, seed=9)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what orientation 6 undoes
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=90, exif=images.make_exif(orientation=6).tobytes())
    assert imaging.hamming(imaging.inspect_image(buf.getvalue()).phash,
                           imaging.phash(upright)) <= 4


def test_inspect_and_process_agree_on_the_hash():
    for seed in range(4):
        data = images.make_jpeg(2400, 1800, seed=seed)
        assert imaging.hamming(imaging.inspect_image(data).phash,
                               imaging.process_image(data)[0].phash) <= 4


# --- fuzzing -------------------------------------------------------------------------------
BASE = images.make_jpeg(96, 64, **FULL_EXIF, orientation=6, quality=80)
APP1 = [s for s in images.jpeg_segments(BASE) if s[0] == 0xE1][0]
EXIF_START, EXIF_END = APP1[1] + 4, APP1[2]  # the payload, after marker and length


def flip(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for where, value in edits:
        out[where % len(out)] = value
    return bytes(out)


mutations = st.one_of(
    st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 255)), min_size=1,
             max_size=20).map(lambda edits: flip(BASE, edits)),
    st.integers(0, len(BASE) - 1).map(lambda n: BASE[:n]),
    st.binary(max_size=400).map(lambda junk: images.with_app1(BASE, b"Exif\x00\x00" + junk)),
    st.tuples(st.sampled_from([b"II*\x00", b"MM\x00*"]), st.binary(max_size=400)).map(
        lambda t: images.with_app1(BASE, b"Exif\x00\x00" + t[0] + t[1])),
)
FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=mutations)
def test_mutated_jpegs_give_facts_or_a_domain_error(data):
    try:
        facts, variants = imaging.process_image(data)
    except DomainError:
        return
    assert facts.format == "jpeg" and set(variants) == {"thumb", "large"}


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(EXIF_START, EXIF_END - 1), st.integers(0, 255)),
                      min_size=1, max_size=30))
def test_damaged_exif_never_refuses_the_photo(edits):
    out = bytearray(BASE)
    for where, value in edits:
        out[where] = value
    facts, _ = imaging.process_image(bytes(out))
    assert (facts.width, facts.height) in ((64, 96), (96, 64))


def test_formats_that_cannot_be_drafted_decode_one_at_a_time(monkeypatch):
    # Two WebP uploads at once in one worker: the second waits for the first's full decode, so
    # a worker never holds two full canvases (bench/decode_memory.py measures the memory).
    import threading

    from PIL import WebPImagePlugin

    inside, most, guard = [0], [0], threading.Lock()
    original = WebPImagePlugin.WebPImageFile.load

    def counting_load(self):
        if getattr(self, "counted", False):  # loaded already: later calls only return pixels
            return original(self)
        self.counted = True
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        try:
            return original(self)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "load", counting_load)
    data = images.make_webp(400, 300, seed=5)
    threads = [threading.Thread(target=imaging.prepare_upload, args=(data,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
