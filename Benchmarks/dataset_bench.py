#!/usr/bin/env python3
"""Dataset mode against the Python stack, in the same session: throughput of Grad-CAM (vs pytorch-grad-cam looping
over the same folder with a batch of 16) and of embeddings (vs onnxruntime on the same network exported to ONNX),
and ConvLens's peak memory over a large folder.

Optional, never needed by ConvLens or its tests: torch 2.13 CPU, onnx, onnxruntime, pillow and grad-cam 1.5.7 (pip
install torch==2.13.0 onnx onnxscript onnxruntime pillow grad-cam==1.5.7; torchvision is not needed).

    nice python Benchmarks/dataset_bench.py --convlens .build/release/convlens [--images 96] [--memory-images 10000]

Every side reads and decodes the same files (copies of Samples/, cycled) and fits them the same way (shorter side
to the crop size, centre crop; Pillow's bilinear resize), and is timed from the first file to the last result, as
a user's loop would be: ConvLens as the whole `convlens gradcam DIR --jsonl` / `convlens correlate DIR --out D`
command (model load included), torch and onnxruntime from the first image opened. The network is SqueezeNet 1.1
(ConvLens with its installed weights; torch's plain copy from Scripts/make_zoo_fixtures.py with seeded random
weights: timings do not depend on the values), Grad-CAM at fire9 (features.12), embeddings the globally averaged
fire9 (512 values). All sides use the machine's cores (torch.set_num_threads, intra_op_num_threads = cores).
Peak memory is the maximum resident set of the convlens process (GNU time -v) over --memory-images symbolic links.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks"))
import compare_torch  # noqa: E402  (build, zoo.randomise, stub_torchvision)

CORES = os.cpu_count()
SIZE = 227                                       # SqueezeNet 1.1 (Caffe recipe): shorter side 227, centre crop 227
MEAN = np.array([104.0, 117.0, 123.0], np.float32)  # BGR mean pixel, 0-255 (the Caffe recipe ConvLens uses)


def folder(root, n):
    """n image files, copies of Samples/ cycled."""
    samples = sorted(f for f in os.listdir(os.path.join(ROOT, "Samples")) if f.endswith((".png", ".jpg")))
    os.makedirs(root, exist_ok=True)
    for i in range(n):
        s = samples[i % len(samples)]
        shutil.copy(os.path.join(ROOT, "Samples", s), os.path.join(root, f"{i:05d}{os.path.splitext(s)[1]}"))
    return sorted(os.path.join(root, f) for f in os.listdir(root))


def batches(paths, n=16):
    """Decoded, fitted, preprocessed batches of n images, (n, 3, S, S) float32."""
    for i in range(0, len(paths), n):
        xs = []
        for p in paths[i:i + n]:
            im = Image.open(p).convert("RGB")
            w, h = im.size
            s = SIZE / min(w, h)
            im = im.resize((max(SIZE, round(w * s)), max(SIZE, round(h * s))), Image.BILINEAR)
            l, t = (im.width - SIZE) // 2, (im.height - SIZE) // 2
            a = np.asarray(im.crop((l, t, l + SIZE, t + SIZE)), np.float32)[:, :, ::-1] - MEAN
            xs.append(a.transpose(2, 0, 1))
        yield np.ascontiguousarray(np.stack(xs))


def timed_command(cmd):
    s = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - s


def peak_rss_mb(cmd):
    """Peak resident memory of a command in MB (GNU time -v)."""
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kb = next(int(l.split()[-1]) for l in r.stderr.splitlines() if "Maximum resident" in l)
    return kb / 1024, r.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convlens", default=os.path.join(ROOT, ".build/release/convlens"))
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--memory-images", type=int, default=10000)
    a = ap.parse_args()
    torch.set_num_threads(CORES)
    tmp = tempfile.mkdtemp(prefix="convlens-dataset-bench-")
    try:
        paths = folder(os.path.join(tmp, "data"), a.images)
        n = len(paths)
        cl = [a.convlens]
        model = ["--model", "squeezenet1_1"]
        rows = {}
        rows["convlens gradcam (one image a pass)"] = n / timed_command(cl + ["gradcam", tmp + "/data", "--jsonl", *model])
        rows["convlens gradcam --batched-passes"] = n / timed_command(cl + ["gradcam", tmp + "/data", "--jsonl", "--batched-passes", *model])
        shutil.rmtree(tmp + "/e", ignore_errors=True)
        rows["convlens embeddings (one image a pass)"] = n / timed_command(cl + ["correlate", tmp + "/data", "--out", tmp + "/e", *model])
        shutil.rmtree(tmp + "/e", ignore_errors=True)
        rows["convlens embeddings --batched-passes"] = n / timed_command(cl + ["correlate", tmp + "/data", "--out", tmp + "/e", "--batched-passes", *model])

        m, _, layer = compare_torch.build("squeezenet1_1")
        m = compare_torch.zoo.randomise(m, 0).eval()
        compare_torch.stub_torchvision()
        from pytorch_grad_cam import GradCAM
        cam = GradCAM(model=m, target_layers=[layer])
        s = time.perf_counter()
        for x in batches(paths):
            maps = cam(input_tensor=torch.from_numpy(x), targets=None)          # (16, S, S)
        rows["pytorch-grad-cam, batch 16"] = n / (time.perf_counter() - s)

        import onnxruntime as ort
        trunk = torch.nn.Sequential(m.features, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
        onnx_path = os.path.join(tmp, "squeezenet_embed.onnx")
        torch.onnx.export(trunk, torch.randn(1, 3, SIZE, SIZE), onnx_path, dynamo=False, opset_version=17,
                          input_names=["x"], output_names=["e"], dynamic_axes={"x": {0: "n"}, "e": {0: "n"}})
        so = ort.SessionOptions()
        so.intra_op_num_threads = CORES
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        s = time.perf_counter()
        for x in batches(paths):
            e = sess.run(None, {"x": x})[0]                                      # (16, 512)
        rows["onnxruntime embeddings, batch 16"] = n / (time.perf_counter() - s)

        print(f"{n} images, {CORES} cores, SqueezeNet 1.1 at {SIZE}px")
        for k, v in rows.items():
            print(f"  {k:42s} {v:7.1f} images/s")
        g, e = rows["pytorch-grad-cam, batch 16"], rows["onnxruntime embeddings, batch 16"]
        for k in [k for k in rows if k.startswith("convlens")]:
            ref = g if "gradcam" in k else e
            print(f"  ratio {k:36s} {rows[k] / ref:5.2f}x {'pytorch-grad-cam' if ref is g else 'onnxruntime'}")

        if a.memory_images:
            many = os.path.join(tmp, "many")
            os.makedirs(many)
            for i in range(a.memory_images):
                os.symlink(paths[i % n], os.path.join(many, f"{i:06d}.png" if paths[i % n].endswith(".png") else f"{i:06d}.jpg"))
            for what, cmd in [("gradcam", cl + ["gradcam", many, "--jsonl", *model]),
                              ("embeddings", cl + ["correlate", many, "--out", tmp + "/many-e", *model])]:
                s = time.perf_counter()
                mb, rc = peak_rss_mb(cmd)
                print(f"  peak memory, {what} over {a.memory_images} images: {mb:.0f} MB (exit {rc}, {time.perf_counter() - s:.0f} s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
