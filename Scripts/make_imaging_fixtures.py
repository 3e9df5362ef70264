#!/usr/bin/env python3
"""Makes the fixtures of Tests/ImagingTests: odd PNG/JPEG files and what Pillow makes of them.

ConvLens never runs Python; this script documents where the expected numbers in the Imaging tests come from.
Every expected value is produced here by Pillow (decoding, BILINEAR resize, crop) or numpy (tensors), and the
manifest records the Python expression that produced it. Deterministic: run it again and nothing changes.

    python3 -m venv /tmp/img-venv && /tmp/img-venv/bin/pip install pillow numpy
    /tmp/img-venv/bin/python Scripts/make_imaging_fixtures.py

Made with Pillow 13.0.0 (bundling libjpeg-turbo 3.2.0) and numpy 2.4.6.
"""
import io
import json
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import PIL
from PIL import Image, features

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "ImagingTests" / "Fixtures"
SAMPLES = ROOT / "Samples"
rng = np.random.RandomState(20240601)  # legacy generator: its stream never changes across numpy versions


# ---------------------------------------------------------------- hashes the Swift tests recompute
def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def fnv1a32(data: bytes) -> str:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def digest(rgb: np.ndarray) -> dict:
    """Whole-image FNV-1a 64 plus one FNV-1a 32 per row, so a failing test can say which rows differ."""
    h, w, _ = rgb.shape
    rows = [fnv1a32(rgb[y].tobytes()) for y in range(h)]
    return {"width": w, "height": h, "fnv1a64": fnv1a64(rgb.tobytes()), "rows": rows}


# ---------------------------------------------------------------- synthetic pictures
def picture(h, w, channels=3):
    """Smooth gradients plus noise, covering 0 and 255."""
    y, x = np.mgrid[0:h, 0:w]
    base = [(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 37) % 256, (x * y) % 256]
    img = np.stack(base[:channels], axis=-1).astype(np.int32)
    img = img + rng.randint(-40, 41, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- a PNG writer for what Pillow cannot write
def chunk(tag: bytes, data: bytes, crc_xor: int = 0) -> bytes:
    crc = (zlib.crc32(tag + data) & 0xFFFFFFFF) ^ crc_xor
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def pack_row(samples: np.ndarray, depth: int) -> bytes:
    """One row of samples (already flattened channel-interleaved) at 1, 2, 4, 8 or 16 bits."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // depth
    out = bytearray()
    for i in range(0, len(samples), per_byte):
        b = 0
        group = list(samples[i:i + per_byte]) + [0] * (per_byte - len(samples[i:i + per_byte]))
        for s in group:
            b = (b << depth) | int(s)
        out.append(b)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_rows(rows: list, bpp: int) -> bytes:
    """Filters row y with type y % 5 (None, Sub, Up, Average, Paeth), so every unfilter path is exercised."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        ftype = y % 5
        line = bytearray([ftype])
        for i, v in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
            line.append((v - pred) & 0xFF)
        out += line
        prev = row
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def make_png(samples: np.ndarray, color_type: int, depth: int, palette=None, trns=None, interlace=False,
             extra_chunks=b"") -> bytes:
    """samples: (H, W, C) integers in the bit depth's range (palette indices for colour type 3)."""
    h, w, c = samples.shape
    bpp = max(1, depth * c // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue  # empty passes are left out entirely
        raw += filter_rows([pack_row(r.reshape(-1), depth) for r in sub], bpp)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if palette is not None:
        data += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += extra_chunks
    return data + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


# ---------------------------------------------------------------- what Pillow does
def pil_rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def pil_verdict(data: bytes) -> str:
    """'accepted', or 'refused: <exception>' with Pillow's default (LOAD_TRUNCATED_IMAGES = False)."""
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
        return "accepted"
    except Exception as e:  # noqa: BLE001 - we record whatever Pillow raises
        return f"refused: {type(e).__name__}: " + re.sub(r" <_io.BytesIO object at 0x[0-9a-f]+>", "", str(e))


def write(name: str, data: bytes) -> str:
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return name


manifest = {
    "generator": "Scripts/make_imaging_fixtures.py",
    "pillow": PIL.__version__,
    "libjpeg_turbo_in_pillow": features.version("libjpeg_turbo"),
    "numpy": np.__version__,
    "decode": [], "broken": [], "sampleDecode": [], "resize": [], "sampleResize": [], "crop": [], "tensor": [],
}


def add_decode(name: str, data: bytes, how: str, expected: np.ndarray = None, note: str = None):
    """Stores the file and the (H, W, 3) bytes Pillow's convert('RGB') gives (or `expected`, with a note why)."""
    write(f"decode/{name}", data)
    rgb = pil_rgb(data) if expected is None else expected
    stem = name.rsplit(".", 1)[0]
    write(f"decode/{stem}.rgb", rgb.tobytes())
    entry = {"file": f"decode/{name}", "expected": f"decode/{stem}.rgb", "width": rgb.shape[1],
             "height": rgb.shape[0], "madeBy": how,
             "expectedFrom": "np.asarray(Image.open(f).convert('RGB'))" if expected is None else note}
    manifest["decode"].append(entry)


# ================================================================ PNG
pic = picture(13, 17)                       # (13, 17, 3)
pic4 = picture(13, 17, 4)                   # (13, 17, 4)
grey = pic[..., 0:1]                        # (13, 17, 1)

def pil_png(mode_image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    mode_image.save(buf, "PNG", **kw)
    return buf.getvalue()

add_decode("png_rgb8.png", pil_png(Image.fromarray(pic)), "Image.fromarray(pic).save(f)")
add_decode("png_rgba8.png", pil_png(Image.fromarray(pic4)), "Image.fromarray(pic4).save(f)  # RGBA, alpha varies")
add_decode("png_grey8.png", pil_png(Image.fromarray(grey[..., 0])), "Image.fromarray(grey).save(f)  # L")
add_decode("png_greyalpha8.png", pil_png(Image.fromarray(pic4[..., [0, 3]])), "LA image, Pillow save")
add_decode("png_palette8.png", pil_png(Image.fromarray(pic).quantize(200)), "Image.fromarray(pic).quantize(200)")
add_decode("png_bilevel1.png", pil_png(Image.fromarray(grey[..., 0]).convert("1")), "mode '1' (1-bit grey)")

palette16 = rng.randint(0, 256, size=(12, 3))
indices = rng.randint(0, 12, size=(13, 17, 1))
add_decode("png_palette4_trns.png",
           make_png(indices, 3, 4, palette=palette16, trns=bytes([0, 128, 255, 7])),
           "make_png(indices 0..11, colour type 3, 4-bit, PLTE 12 entries, tRNS 4 entries), filters 0-4")
add_decode("png_palette1.png", make_png(indices % 2, 3, 1, palette=palette16[:2]), "1-bit palette")
add_decode("png_grey2.png", make_png(grey >> 6, 0, 2), "make_png(grey >> 6, colour type 0, 2-bit)")
add_decode("png_grey4.png", make_png(grey >> 4, 0, 4), "make_png(grey >> 4, colour type 0, 4-bit)")
add_decode("png_grey8_trns.png", make_png(grey, 0, 8, trns=struct.pack(">H", int(grey[0, 0, 0]))),
           "8-bit grey with a tRNS colour")
add_decode("png_grey4_interlaced.png", make_png(grey >> 4, 0, 4, interlace=True), "Adam7, 4-bit grey")
add_decode("png_rgb8_interlaced.png", make_png(pic, 2, 8, interlace=True), "Adam7, 8-bit RGB")
add_decode("png_palette4_interlaced.png", make_png(indices, 3, 4, palette=palette16, interlace=True),
           "Adam7, 4-bit palette")

wide = rng.randint(0, 65536, size=(13, 17, 4))  # 16-bit samples, all ranges
add_decode("png_rgb16.png", make_png(wide[..., :3], 2, 16), "make_png(16-bit RGB)")
add_decode("png_rgba16.png", make_png(wide, 6, 16), "make_png(16-bit RGBA)")
add_decode("png_greyalpha16.png", make_png(wide[..., [0, 3]], 4, 16), "make_png(16-bit grey + alpha)")
add_decode("png_rgb16_interlaced.png", make_png(wide[..., :3], 2, 16, interlace=True), "Adam7, 16-bit RGB")
# 16-bit grey: Pillow opens it as "I;16" and convert("RGB") clips every value above 255 to 255, which turns almost
# any real 16-bit scan white. We take the high byte, as Pillow itself does for 16-bit RGB and grey + alpha.
grey16 = wide[..., 0:1]
grey16_png = make_png(grey16, 0, 16)
high = np.repeat((grey16 >> 8).astype(np.uint8), 3, axis=2)
pil_clips = bool((pil_rgb(grey16_png) == np.repeat(np.minimum(grey16, 255).astype(np.uint8), 3, axis=2)).all())
add_decode("png_grey16.png", grey16_png, "make_png(16-bit grey)", expected=high,
           note=f"high byte of each sample, replicated to R, G, B (deviation: Pillow's I;16 -> RGB clips at 255; "
                f"verified here: {pil_clips})")

# ================================================================ JPEG
jpic = picture(29, 37)                      # (29, 37, 3): several MCUs, odd edges

def pil_jpeg(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()

add_decode("jpeg_444.jpg", pil_jpeg(Image.fromarray(jpic), subsampling=0), "save(quality=90, subsampling=0)")
add_decode("jpeg_422.jpg", pil_jpeg(Image.fromarray(jpic), subsampling=1), "save(quality=90, subsampling=1)")
add_decode("jpeg_420.jpg", pil_jpeg(Image.fromarray(jpic), subsampling=2), "save(quality=90, subsampling=2)")
add_decode("jpeg_progressive.jpg", pil_jpeg(Image.fromarray(jpic), progressive=True), "save(progressive=True)")
add_decode("jpeg_restart.jpg", pil_jpeg(Image.fromarray(jpic), restart_marker_blocks=2),
           "save(restart_marker_blocks=2)  # RSTn markers in the scan")
add_decode("jpeg_grey.jpg", pil_jpeg(Image.fromarray(jpic[..., 1])), "mode 'L' save")

cmyk = Image.frombytes("CMYK", (37, 29), picture(29, 37, 4).tobytes())
cmyk_adobe = pil_jpeg(cmyk)
add_decode("jpeg_cmyk_adobe.jpg", cmyk_adobe, "CMYK image, Pillow save (writes Adobe APP14, inverted CMYK)")
app14 = cmyk_adobe.index(b"\xff\xee")
app14_len = struct.unpack(">H", cmyk_adobe[app14 + 2:app14 + 4])[0]
add_decode("jpeg_cmyk_plain.jpg", cmyk_adobe[:app14] + cmyk_adobe[app14 + 2 + app14_len:],
           "jpeg_cmyk_adobe.jpg with its APP14 segment cut out (plain CMYK, no Adobe marker)")
transform = app14 + 2 + app14_len - 1  # last byte of APP14: Adobe colour transform, 0 = CMYK, 2 = YCCK
assert cmyk_adobe[transform] == 0
add_decode("jpeg_ycck.jpg", cmyk_adobe[:transform] + b"\x02" + cmyk_adobe[transform + 1:],
           "jpeg_cmyk_adobe.jpg with APP14 transform set to 2, so libjpeg reads it as YCCK")

# ================================================================ broken files
def add_broken(name: str, data: bytes, how: str, kind: str, needle: str):
    """A file the decoder must refuse with an ImageError of `kind` whose message contains `needle`."""
    write(f"broken/{name}", data)
    manifest["broken"].append({"file": f"broken/{name}", "madeBy": how, "kind": kind, "contains": needle,
                               "pillow": pil_verdict(data)})

rgb8 = (OUT / "decode/png_rgb8.png").read_bytes()
idat = rgb8.index(b"IDAT")
idat_crc = idat + 4 + struct.unpack(">I", rgb8[idat - 4:idat])[0]  # the 4 CRC bytes after the IDAT data
add_broken("png_bad_crc_idat.png", rgb8[:idat_crc] + bytes([rgb8[idat_crc] ^ 0x01]) + rgb8[idat_crc + 1:],
           "png_rgb8.png with one bit of its IDAT CRC flipped (the data itself intact)", "corrupt", "IDAT: CRC error")
add_broken("png_bad_idat_data.png", rgb8[:idat + 10] + bytes([rgb8[idat + 10] ^ 0x01]) + rgb8[idat + 11:],
           "png_rgb8.png with one bit of IDAT data flipped", "corrupt", "corrupt PNG (libpng: IDAT")
text = chunk(b"tEXt", b"Comment\x00hello", crc_xor=0x1)
add_broken("png_bad_crc_text.png", make_png(pic, 2, 8, extra_chunks=text),
           "RGB PNG with a tEXt chunk whose CRC is off by one bit", "corrupt", "CRC")
add_broken("png_no_iend.png", rgb8[:-12], "png_rgb8.png without its IEND chunk", "truncated", "truncated PNG")
bomb_ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
add_broken("png_bomb.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", bomb_ihdr) +
           chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""),
           "IHDR of 60000x60000 RGB, then 1000 zero bytes of image data", "tooLarge",
           "image is 60000x60000 (3600 MP), above the limit of 100 MP; pass --max-pixels to allow it")
add_broken("png_zero_width.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 5, 8, 2, 0, 0, 0)),
           "IHDR of 0x5", "corrupt", "0x5")
add_broken("png_bad_zlib.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", b"\x78\x9c\xff\xff\xff\xff") + chunk(b"IEND", b""),
           "4x4 RGB whose IDAT is not a valid zlib stream (good CRCs)", "corrupt", "corrupt PNG (libpng:")
add_broken("png_short_data.png", b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack(">IIBBBBB", 17, 13, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(b"\x00" * (1 + 17 * 3) * 6)) + chunk(b"IEND", b""),
           "17x13 RGB whose complete, valid zlib stream holds only 6 rows", "corrupt", "corrupt PNG (libpng:")

j420 = (OUT / "decode/jpeg_420.jpg").read_bytes()
sos = j420.index(b"\xff\xda")
scan = sos + 2 + struct.unpack(">H", j420[sos + 2:sos + 4])[0]
add_broken("jpeg_bad_huffman.jpg", j420[:scan + 20] + b"\xff\x00" * 8 + j420[scan + 36:],
           "jpeg_420.jpg with 16 bytes of its scan replaced by stuffed 0xFF bytes (all-ones codes are invalid)",
           "corrupt", "Corrupt JPEG data")
add_broken("jpeg_no_eoi.jpg", j420[:-2], "jpeg_420.jpg without its EOI marker", "truncated",
           "truncated JPEG (libjpeg: Premature end of JPEG file)")
add_broken("jpeg_half.jpg", j420[:len(j420) // 2], "first half of jpeg_420.jpg", "truncated",
           "truncated JPEG (libjpeg: Premature end of JPEG file)")
sof0 = j420.index(b"\xff\xc0")
add_broken("jpeg_12bit.jpg", j420[:sof0 + 4] + b"\x0c" + j420[sof0 + 5:],
           "jpeg_420.jpg with its frame header's sample precision set to 12 bits", "unsupported", "precision 12")
sof = struct.pack(">HBHHB", 17, 8, 65535, 65535, 3) + bytes([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1])
sos = struct.pack(">HB", 12, 3) + bytes([1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])
add_broken("jpeg_bomb.jpg", b"\xff\xd8" + b"\xff\xc0" + sof + b"\xff\xda" + sos + b"\xff\xd9",
           "SOI, SOF0 of 65535x65535, SOS, EOI",
           "tooLarge", "image is 65535x65535 (4295 MP), above the limit of 100 MP; pass --max-pixels to allow it")

def many_scans_jpeg(coefficients: int) -> bytes:
    """An 8x8 grey progressive JPEG built by hand: one DC scan, then for each AC coefficient 1..n a first scan at
    Al = 13 and 13 refinement scans down to Al = 0, 1 + 14 n scans in all. Both Huffman tables hold one 1-bit code
    (symbol 0: DC difference 0, AC end-of-band), so every scan's data is the single byte 0x7F."""
    seg = lambda marker, body: b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body
    out = b"\xff\xd8" + seg(0xDB, b"\x00" + b"\x01" * 64)
    out += seg(0xC2, struct.pack(">BHHB", 8, 8, 8, 1) + bytes([1, 0x11, 0]))
    one_code = bytes([1] + [0] * 15) + b"\x00"
    out += seg(0xC4, b"\x00" + one_code) + seg(0xC4, b"\x10" + one_code)
    scan = lambda ss, se, ah, al: seg(0xDA, bytes([1, 1, 0x00, ss, se, ah << 4 | al])) + b"\x7f"
    out += scan(0, 0, 0, 0)
    for k in range(1, coefficients + 1):
        out += scan(k, k, 0, 13) + b"".join(scan(k, k, a, a - 1) for a in range(13, 0, -1))
    return out + b"\xff\xd9"


add_decode("jpeg_421_scans.jpg", many_scans_jpeg(30), "many_scans_jpeg(30): 421 progressive scans, under the limit")
add_broken("jpeg_883_scans.jpg", many_scans_jpeg(63), "many_scans_jpeg(63): 883 progressive scans", "corrupt",
           "corrupt JPEG (more than 500 scans; real photos have about 10)")
add_broken("not_an_image.png", b"not an image, just text\n", "a text file named .png", "notAnImage",
           "not a PNG or JPEG file (starts with 'not an i')")
add_broken("gif_named.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "a 1x1 GIF header named .png", "notAnImage",
           "looks like GIF")

# ================================================================ the sample photos
for name in ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "grace_hopper.jpg"]:
    rgb = np.asarray(Image.open(SAMPLES / name).convert("RGB"))
    manifest["sampleDecode"].append({"file": f"Samples/{name}", "madeBy": "np.asarray(Image.open(f).convert('RGB'))",
                                     **digest(rgb)})

# ================================================================ resize: Pillow's BILINEAR
noise = rng.randint(0, 256, size=(23, 37, 3)).astype(np.uint8)   # (23, 37, 3)
smooth = picture(48, 64)                                         # (48, 64, 3)
column = rng.randint(0, 256, size=(23, 1, 3)).astype(np.uint8)   # (23, 1, 3)
row = rng.randint(0, 256, size=(1, 23, 3)).astype(np.uint8)      # (1, 23, 3)
sources = {"noise37x23": noise, "smooth64x48": smooth, "column1x23": column, "row23x1": row}
for stem, arr in sources.items():
    write(f"resize/{stem}.png", pil_png(Image.fromarray(arr)))
cases = {
    # Pillow 13 runs the vertical pass first when (h - newH) > 0 and (h - newH) > 2 * (w - newW):
    # 50x7, 30x5, 33x13 and 60x20 take that path; 32x13 sits exactly on the boundary and goes horizontal first.
    "noise37x23": [(16, 11), (80, 50), (37, 9), (12, 23), (50, 7), (1, 1), (36, 22), (38, 24), (5, 40), (30, 5),
                   (32, 13), (33, 13)],
    "smooth64x48": [(32, 24), (21, 16), (17, 13), (97, 70), (64, 47), (63, 48), (60, 20)],
    "column1x23": [(5, 7), (1, 50)],
    "row23x1": [(7, 3), (46, 1)],
}
for stem, sizes in cases.items():
    im = Image.open(OUT / f"resize/{stem}.png").convert("RGB")
    for w, h in sizes:
        out = np.asarray(im.resize((w, h), Image.BILINEAR))
        name = write(f"resize/{stem}_to_{w}x{h}.rgb", out.tobytes())
        manifest["resize"].append({"source": f"resize/{stem}.png", "width": w, "height": h, "expected": name,
                                   "madeBy": f"Image.open(source).convert('RGB').resize(({w}, {h}), Image.BILINEAR)"})


# torchvision's Resize(size) and CenterCrop(size) on a PIL image, transcribed from
# torchvision/transforms/functional.py (_compute_resized_output_size, center_crop): torch is not needed for them.
def tv_resize(im: Image.Image, size: int) -> Image.Image:
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return im if (new_w, new_h) == (w, h) else im.resize((new_w, new_h), Image.BILINEAR)


def tv_center_crop(im: Image.Image, crop_h: int, crop_w: int) -> Image.Image:
    w, h = im.size
    if crop_w > w or crop_h > h:
        pad = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
               (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0]
        padded = Image.new("RGB", (w + pad[0] + pad[2], h + pad[1] + pad[3]))
        padded.paste(im, (pad[0], pad[1]))
        im, (w, h) = padded, padded.size
        if (crop_w, crop_h) == (w, h):
            return im
    top, left = int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0))
    return im.crop((left, top, left + crop_w, top + crop_h))


PRESETS = {"caffe": (227, 227), "torchvision": (256, 224), "tf": (224, 224)}
photo_cases = [
    ("chelsea.png", "resize", (341, 227)), ("coffee.png", "resize", (340, 227)),
    ("astronaut.png", "resize", (100, 77)), ("astronaut.png", "resize", (700, 650)),
    ("chelsea.png", "resize", (400, 60)),  # vertical pass first in Pillow 13
    ("rocket.jpg", "shorter", 256), ("grace_hopper.jpg", "shorter", 256), ("chelsea.png", "shorter", 227),
    ("chelsea.png", "prepare", "caffe"), ("rocket.jpg", "prepare", "torchvision"),
    ("grace_hopper.jpg", "prepare", "tf"), ("coffee.png", "prepare", "caffe"),
]
for name, op, arg in photo_cases:
    im = Image.open(SAMPLES / name).convert("RGB")
    if op == "resize":
        out, how = im.resize(arg, Image.BILINEAR), f"im.resize({arg}, Image.BILINEAR)"
    elif op == "shorter":
        out, how = tv_resize(im, arg), f"torchvision Resize({arg})(im)"
    else:
        r, c = PRESETS[arg]
        out, how = tv_center_crop(tv_resize(im, r), c, c), f"torchvision CenterCrop({c})(Resize({r})(im))"
    manifest["sampleResize"].append({"file": f"Samples/{name}", "op": op, "argument": None if op == "resize" else str(arg),
                                     "madeBy": f"im = Image.open(f).convert('RGB'); {how}",
                                     **digest(np.asarray(out))})

# ================================================================ centre crop
crop_src = Image.open(OUT / "resize/noise37x23.png").convert("RGB")
for cw, ch in [(20, 10), (21, 11), (36, 22), (37, 23), (1, 1), (40, 30), (41, 10), (10, 26), (50, 50)]:
    out = np.asarray(tv_center_crop(crop_src, ch, cw))
    name = write(f"crop/noise37x23_crop_{cw}x{ch}.rgb", out.tobytes())
    manifest["crop"].append({"source": "resize/noise37x23.png", "width": cw, "height": ch, "expected": name,
                             "madeBy": f"torchvision CenterCrop(({ch}, {cw}))(Image.open(source))"})

# ================================================================ tensors: what each framework feeds its model
tensor_src = np.asarray(Image.open(OUT / "resize/noise37x23.png").convert("RGB"))[:5, :7]  # (5, 7, 3)
write("tensor/noise7x5.png", pil_png(Image.fromarray(tensor_src)))
x = tensor_src.astype(np.float32).transpose(2, 0, 1)                                       # (3, 5, 7) RGB
f32 = np.float32
refs = {
    # Caffe: BGR, minus the mean pixel (B, G, R).
    "caffe": ((x[::-1] - np.array([104.006, 116.669, 122.679], f32)[:, None, None]), 0.0,
              "x = float32 (3,H,W) RGB; (x[::-1] - mean_bgr[:, None, None])"),
    # torchvision: ToTensor divides by 255, Normalize subtracts and divides, all float32.
    "torchvision": (((x / f32(255)) - np.array([0.485, 0.456, 0.406], f32)[:, None, None])
                    / np.array([0.229, 0.224, 0.225], f32)[:, None, None], 1e-6,
                    "ToTensor + Normalize: ((x / 255) - mean) / std in float32; ConvLens multiplies by 1/255"),
    # Keras "tf" mode (imagenet_utils.preprocess_input): x /= 127.5; x -= 1.
    "tf": ((x / f32(127.5)) - f32(1), 1e-6, "keras tf mode: x / 127.5 - 1 in float32; ConvLens multiplies by 1/127.5"),
}
for preset, (t, tol, how) in refs.items():
    assert t.dtype == np.float32
    manifest["tensor"].append({"preset": preset, "source": "tensor/noise7x5.png", "height": 5, "width": 7,
                               "tolerance": tol, "madeBy": how, "values": [float(v) for v in t.reshape(-1)]})


def manifest_text(m: dict) -> str:
    """One line per case, so a regenerated manifest diffs case by case."""
    lines = []
    for key, value in m.items():
        if isinstance(value, list):
            body = ",\n".join("  " + json.dumps(entry) for entry in value)
            lines.append(f" {json.dumps(key)}: [\n{body}\n ]")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


(OUT / "manifest.json").write_text(manifest_text(manifest))
total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
print(f"wrote {sum(1 for p in OUT.rglob('*') if p.is_file())} files, {total / 1024:.0f} KB, under {OUT}")
