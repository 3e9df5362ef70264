#!/usr/bin/env python3
"""Times onnxruntime on full-width ResNet-18 and ResNet-50 ONNX exports and, given a convlens binary, runs
`convlens bench --model FILE.onnx --json` on the same files in the same session and prints the ratios.

Optional, never needed by ConvLens or its tests: torch 2.13 CPU, onnx, onnxscript and onnxruntime (the venv of
README's "Where the expected numbers come from").

    nice /tmp/torch-venv/bin/python Benchmarks/onnx_bench.py [FOLDER] [--convlens .build/release/convlens] [--runs 9]

The models are the zoo script's plain-torch copies of torchvision's ResNets (the same `state_dict` keys and parameter
totals), with seeded random weights (make_zoo_fixtures.randomise, seed 0, as compare_torch.py): timings do not depend
on the values. Each is exported to FOLDER (default /tmp/convlens-onnx-bench, never committed; existing files are
reused, --export rewrites them) with both of torch's exporters, as a user would: `torch.onnx.export(..., dynamo=False,
opset_version=17)` (BN folded into the convs) and `torch.onnx.export(..., dynamo=True)` (opset 20, weights in a .data
file). onnxruntime runs batch 1 at 224x224 on the CPU provider with intra_op_num_threads 2 and 1, all graph
optimisations on; as `convlens bench`, each figure is the median of --runs timed calls after at least two calls and a
quarter of a second of warm-up. The issue's bars: ConvLens's forward no slower than onnxruntime's on 2 threads, its
Grad-CAM at most 1.5x its own forward.

On this shared machine a figure moves by 10% and more from one run to the next, with a neighbour's load and with where
the host puts the two vCPUs, so the two are timed in turns: for each file, onnxruntime on one thread first, then
--rounds rounds of onnxruntime on two threads and ConvLens, and onnxruntime once more at the end, so that each
ConvLens run sits between two onnxruntime runs. (Timed right after onnxruntime's one-thread run, as an earlier version
of this script did, ConvLens often started with its vCPUs on two dies: see --pingpong.) The verdict compares the
medians over the rounds; each round's ratio, against the faster of the onnxruntime runs either side, is printed too.

With --pingpong PINGPONG (Benchmarks/pingpong.c, compiled), the cache-line round trip between the two CPUs is read
before and after each convlens run and printed beside it: 50-90 ns when the host runs the two vCPUs on one die,
320-370 ns when on two, where ConvLens's forward is slower (README).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import onnxruntime as ort
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
import make_zoo_fixtures as zoo  # noqa: E402

EXPORTERS = {"legacy": {"dynamo": False, "opset_version": 17}, "dynamo": {"dynamo": True}}


def timed(fn, runs):
    """Median and minimum in ms of `runs` calls after warming up for two calls and a quarter of a second (at most 20)."""
    start, calls = time.perf_counter(), 0
    while calls < 2 or calls < 20 and time.perf_counter() - start < 0.25:
        fn()
        calls += 1
    t = []
    for _ in range(runs):
        s = time.perf_counter()
        fn()
        t.append((time.perf_counter() - s) * 1e3)
    return statistics.median(t), min(t)


def export(name, folder, force):
    """{exporter: path} of `name`'s exports in `folder`, written unless present."""
    paths = {e: os.path.join(folder, f"{name}_{e}.onnx") for e in EXPORTERS}
    if force or not all(os.path.exists(p) for p in paths.values()):
        model = zoo.randomise(zoo.BUILD[name](1000, 1), 0).eval()
        total = sum(p.numel() for p in model.parameters())
        assert total == zoo.TORCHVISION_TOTALS[name], f"{name}: {total} parameters, torchvision's has {zoo.TORCHVISION_TOTALS[name]}"
        x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
        for e, kw in EXPORTERS.items():
            print(f"exporting {name} ({e}) to {paths[e]}", file=sys.stderr)
            for stale in (paths[e], paths[e] + ".data"):
                if os.path.exists(stale):
                    os.remove(stale)
            torch.onnx.export(model, (x,), paths[e], verbose=False, **kw)
    return paths


def session(path, threads):
    """An onnxruntime CPU session on `path` with `threads` intra-op threads, all graph optimisations on."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = threads, 1, 3
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def bench_ort(s, runs):
    """Median and minimum in ms of session `s`'s forward on one seeded 224x224 image."""
    feed = {s.get_inputs()[0].name: np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32)}
    return timed(lambda: s.run(None, feed), runs)


def bench_convlens(binary, path, runs):
    """convlens's row for `path` from `convlens bench --model path --json`, or the reason there is none."""
    cmd = [binary, "bench", "--model", path, "--json", "--runs", str(runs)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{' '.join(cmd)}: {e}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        return None, f"convlens bench exited with {done.returncode}: {last}"
    try:
        report = json.loads(done.stdout)
        rows = report["models"] if isinstance(report, dict) else report
        return rows[0], None
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return None, f"convlens bench printed no report this script reads ({type(e).__name__}: {e}): {done.stdout[:200]!r}"


def round_trip(pingpong):
    """The pingpong probe's reading in ns, as text, or None without a probe."""
    if not pingpong:
        return None
    done = subprocess.run([pingpong], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else f"(pingpong failed: {done.stderr.strip()})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?", default="/tmp/convlens-onnx-bench", help="where the exports go (never committed)")
    ap.add_argument("--convlens", help="a convlens binary to time on the same files")
    ap.add_argument("--runs", type=int, default=9, help="timed runs per figure (convlens bench's default)")
    ap.add_argument("--rounds", type=int, default=5, help="convlens runs per file, each between two onnxruntime runs")
    ap.add_argument("--models", nargs="*", default=["resnet18", "resnet50"], choices=["resnet18", "resnet50"])
    ap.add_argument("--export", action="store_true", help="rewrite the exports even if they exist")
    ap.add_argument("--pingpong", help="a compiled Benchmarks/pingpong.c, read around each convlens run")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.makedirs(args.folder, exist_ok=True)
    torch.set_num_threads(2)
    print(f"onnxruntime {ort.__version__}, torch {torch.__version__}, {os.cpu_count()} cores; batch 1, 224x224, "
          f"median (min) of {args.runs} runs")
    for name in args.models:
        for exporter, path in export(name, args.folder, args.export).items():
            print(f"\n{name} {exporter} ({os.path.basename(path)})")
            ort1 = bench_ort(session(path, 1), args.runs)
            print(f"  onnxruntime forward, 1 thread   {ort1[0]:8.2f} ms ({ort1[1]:.2f})")
            two = session(path, 2)
            ort2 = [bench_ort(two, args.runs)]
            print(f"  onnxruntime forward, 2 threads  {ort2[0][0]:8.2f} ms ({ort2[0][1]:.2f})")
            if not args.convlens:
                continue
            fwds, cams = [], []
            for r in range(args.rounds):
                before = round_trip(args.pingpong)
                row, failure = bench_convlens(args.convlens, path, args.runs)
                placement = f", CPU-to-CPU round trip {before} and {round_trip(args.pingpong)} ns" if args.pingpong else ""
                if failure:
                    print(f"  convlens: {failure}")
                    break
                fwd, cam = row.get("forward_ms"), row.get("gradcam_ms")
                if fwd is None:
                    print(f"  convlens: no forward_ms in its row: {sorted(row)}")
                    break
                ort2.append(bench_ort(two, args.runs))
                around = min(ort2[-2][0], ort2[-1][0])           # the faster of onnxruntime's runs either side
                fwds.append(fwd)
                line = f"  round {r + 1}: convlens forward {fwd:6.2f} ms ({row.get('forward_min_ms', float('nan')):.2f})"
                if cam is not None:
                    cams.append(cam / fwd)
                    line += f", Grad-CAM {cam:6.2f} ms"
                print(f"{line}; onnxruntime after it {ort2[-1][0]:6.2f} ms ({ort2[-1][1]:.2f}), "
                      f"onnxruntime / convlens {around / fwd:.2f}x{placement}")
            if not fwds:
                continue
            fwd, ortm = statistics.median(fwds), statistics.median(o[0] for o in ort2)
            verdict = "ok" if fwd <= ortm else "SHORT"
            print(f"  medians over the rounds: convlens {fwd:.2f} ms, onnxruntime (2 threads) {ortm:.2f} ms: "
                  f"onnxruntime / convlens {ortm / fwd:.2f}x  {verdict}")
            if cams:
                ratio = max(cams)
                verdict = "ok" if ratio <= 1.5 else "SHORT"
                print(f"  convlens Grad-CAM / own forward: {min(cams):.2f}-{ratio:.2f}x over the rounds (bar 1.5x)  {verdict}")

if __name__ == "__main__":
    main()
