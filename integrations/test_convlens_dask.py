"""Scale test of the Dask integration (run by Tests/CLITests/DaskIntegrationTests.swift, so CI runs it):

    .build-py/venv/bin/python integrations/test_convlens_dask.py path/to/convlens

Over 400 images (copies and crops of Samples/, plus one broken file) on a LocalCluster of 2 worker processes:
1. the merged index and embeddings of a 4-shard cluster run equal a single-process run exactly (bit for bit);
2. a worker killed mid-run (SIGKILL, with its convlens child), then a rerun, completes with every image once:
   nothing lost, nothing duplicated, and the rerun computes only what the kill lost;
3. one image with two targets in a JSON Lines manifest merges as two items.
Prints one line per check and exits 1 on the first failure.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import psutil
from dask.distributed import Client, LocalCluster
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convlens_dask import merge, run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = ["--model", "squeezenet1_1"]


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        sys.exit(1)


def make_images(root, n=400):
    """n PNGs: even ones copies of a Sample (shrunk to 160 px tall, to keep the test fast), odd ones seeded crops."""
    rng = random.Random(17)
    samples = [Image.open(os.path.join(ROOT, "Samples", f)).convert("RGB") for f in sorted(os.listdir(os.path.join(ROOT, "Samples")))
               if f.endswith((".png", ".jpg"))]
    samples = [im.resize((im.width * 160 // im.height, 160)) for im in samples]
    for i in range(n):
        im = samples[i % len(samples)]
        if i % 2:
            w, h = rng.randint(64, im.width), rng.randint(64, im.height)
            x, y = rng.randint(0, im.width - w), rng.randint(0, im.height - h)
            im = im.crop((x, y, x + w, y + h))
        d = os.path.join(root, f"group{i % 7}")
        os.makedirs(d, exist_ok=True)
        im.save(os.path.join(d, f"img{i:04d}.png"))
    with open(os.path.join(root, "broken.png"), "wb") as f:
        f.write(b"not an image")


def same(a, b, what):
    """Merged records (without the config hash, which names the run's settings) and arrays equal exactly."""
    ra, rb = a[0], b[0]
    strip = lambda rs: [{k: v for k, v in r.items() if k != "config"} for r in rs]
    diff = next(([f"{k}: {x.get(k)} vs {y.get(k)}" for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
                 for x, y in zip(strip(ra), strip(rb)) if x != y), None)
    check(len(ra) == len(rb) and diff is None,
          f"{what}: merged index equals the single-process run ({len(ra)} and {len(rb)} lines{'; first difference ' + str(diff) if diff else ''})")
    xa, xb = np.load(a[1]), np.load(b[1])
    check(xa.shape == xb.shape and xa.dtype == xb.dtype == np.float32 and np.array_equal(xa, xb),
          f"{what}: merged embeddings {xa.shape} equal the single-process run bit for bit")


def two_targets_of_one_image(convlens, tmp, env):
    """One image with two targets in a JSON Lines manifest is two items: the merge keeps both, in (path, target) order."""
    out, manifest = os.path.join(tmp, "targets"), os.path.join(tmp, "targets.jsonl")
    image = os.path.join("data", "group0", "img0000.png")                      # relative to the manifest's folder
    with open(manifest, "w", encoding="utf-8") as f:
        f.write(json.dumps({"path": image, "target": "prob:281"}) + "\n" + json.dumps({"path": image, "target": 3}) + "\n")
    p = subprocess.run([convlens, "gradcam", manifest, "--out", out, *ARGS], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    check(p.returncode == 0, f"gradcam over a manifest with two targets of one image: exit {p.returncode}, {p.stderr.strip()[-80:]}")
    records, maps = merge(out, "gradcam", 1)
    given = [r.get("given_target") for r in records]
    check(given == ["class:3", "prob:281"] and np.load(maps).shape[0] == 2, f"two targets of one image merge as two items: {given}")


def main(convlens):
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="convlens-dask-")
    try:
        data = os.path.join(tmp, "data")
        make_images(data)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        single = os.path.join(tmp, "single")
        p = subprocess.run([convlens, "correlate", data, "--out", single, *ARGS], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        check(p.returncode == 1 and "1 of 401 images failed" in p.stderr, f"single run: exit {p.returncode}, {p.stderr.strip()[-80:]}")
        reference = merge(single, "correlate", 1)
        check(len(reference[0]) == 401 and sum(r.get("error") is not None for r in reference[0]) == 1,
              "single run: 400 embedded images and the broken one recorded")
        two_targets_of_one_image(convlens, tmp, env)

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            out = os.path.join(tmp, "cluster")
            same(run(client, convlens, "correlate", data, out, shards=4, args=ARGS, reduce_args=["--neighbours", "3"]),
                 reference, "4 shards on 2 workers")
            check(os.path.exists(os.path.join(out, "reduce", "class_correlation.png"))
                  and sum(1 for _ in open(os.path.join(out, "reduce", "neighbours.jsonl"))) == 400,
                  "the reduce step ran on the merged shards")

            # Kill a worker (and the convlens it runs) once a shard has committed a batch; then rerun.
            killed = os.path.join(tmp, "killed")
            outcome = {}

            def first_run():
                try:
                    outcome["result"] = run(client, convlens, "correlate", data, killed, shards=4, args=ARGS, retries=0)
                except Exception as e:  # the killed shard's task fails: the rerun below finishes it
                    outcome["error"] = e
            thread = threading.Thread(target=first_run)
            thread.start()
            victim = None
            while victim is None and thread.is_alive():
                parts = [f for f in os.listdir(killed)] if os.path.isdir(killed) else []
                if any(".part" in f for f in parts):
                    for addr, pid in client.run(os.getpid).items():
                        kids = [c for c in psutil.Process(pid).children(recursive=True) if "convlens" in " ".join(c.cmdline())]
                        if kids:
                            victim = (addr, pid)
                            for c in kids:
                                c.send_signal(signal.SIGKILL)
                            os.kill(pid, signal.SIGKILL)
                            break
                time.sleep(0.02)
            thread.join()
            check(victim is not None, f"killed worker {victim} and its convlens mid-run "
                  + ("(the run then failed: " + type(outcome["error"]).__name__ + ")" if "error" in outcome else "(the run still finished)"))
            client.wait_for_workers(2, timeout=30)
            left = [f for f in os.listdir(killed) if ".part" in f]
            same(run(client, convlens, "correlate", data, killed, shards=4, args=ARGS), reference, "after the kill, rerun")
            check(not any(".part" in f for f in os.listdir(killed)), f"the rerun joined the {len(left)} part files the kill left behind")
        print(f"ok: the scale test took {time.time() - t0:.0f} s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
