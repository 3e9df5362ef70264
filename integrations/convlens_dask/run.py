"""Shards as Dask tasks, the merge of their indices and arrays, and the reduce step."""
import glob
import json
import os
import subprocess

import numpy as np
from distributed import wait

ARRAYS = {"gradcam": "maps", "correlate": "embeddings", "activations": "activations", "classify": None}
FILES = {"gradcam": "gradcam", "correlate": "embeddings", "activations": "activations", "classify": "classify"}


class ShardFailed(RuntimeError):
    """A shard's convlens run failed as a whole (not just some of its images); Dask retries it."""


def run_shard(convlens, command, manifest, out, index, count, args=(), env=None):
    """Runs one shard: `convlens COMMAND MANIFEST --shard i/N --out OUT ARGS`.

    Exit 0 is success; exit 1 after "images failed" means some images were recorded with their error (the shard is
    done); anything else (a bad option, a killed process) raises ShardFailed so that Dask retries the task.
    Returns (index, count, the summary line or "")."""
    cmd = [convlens, command, manifest, "--shard", f"{index}/{count}", "--out", out, *args]
    e = dict(os.environ if env is None else env)
    e.setdefault("OPENBLAS_NUM_THREADS", "1")        # one core per task: the cluster, not BLAS, spreads the work
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=e)
    last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    if p.returncode == 0 or (p.returncode == 1 and "images failed" in last):
        return index, count, last
    raise ShardFailed(f"shard {index}/{count}: exit {p.returncode}: {last}")


def merge(out, command, count):
    """Merges the shards' indices (and arrays) into OUT/merged.index.jsonl (and OUT/merged.<array>.npy), sorted by
    path and target, rows renumbered; the array is written row by row through a memory map (memory stays one row).

    Returns (records, path of the merged array or None)."""
    kind, array = FILES[command], ARRAYS[command]
    shards = sorted(glob.glob(os.path.join(out, f"{kind}-*-*of{count}.index.jsonl")))
    items = []                                                   # (record, array file, row)
    for index_file in shards:
        stem = index_file[: -len(".index.jsonl")]
        for line in open(index_file, encoding="utf-8"):
            r = json.loads(line)
            items.append((r, f"{stem}.{array}.npy" if array else None, r.get("row")))
    def item(r):                                                 # an image and its manifest target, if any
        return (r["path"], r.get("given_target") or "")
    keys = [item(r) for r, _, _ in items]
    if len(keys) != len(set(keys)):
        raise RuntimeError(f"{len(keys) - len(set(keys))} items (path and target) appear in more than one shard of {out}")
    items.sort(key=lambda t: item(t[0]))
    merged_array = None
    good = [t for t in items if t[0].get("error") is None]
    if array and good:
        sources = {f: np.load(f, mmap_mode="r") for f in {t[1] for t in good}}
        first = next(iter(sources.values()))
        merged_array = os.path.join(out, f"merged.{array}.npy")
        tmp = merged_array + ".tmp.npy"
        dst = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(good),) + first.shape[1:])
        for i, (_, f, row) in enumerate(good):
            dst[i] = sources[f][row]
        dst.flush()
        del dst
        os.replace(tmp, merged_array)
    row = 0
    records = []
    for r, _, _ in items:
        r = dict(r)
        if r.get("error") is None and array:
            r["row"] = row
            row += 1
        records.append(r)
    tmp = os.path.join(out, "merged.index.jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    os.replace(tmp, os.path.join(out, "merged.index.jsonl"))
    return records, merged_array


def run(client, convlens, command, manifest, out, shards, args=(), retries=3, reduce_args=None):
    """Runs COMMAND over MANIFEST on the cluster: one task per shard (retried up to `retries` times), then the
    merge, then for `correlate` the reduce step (`convlens correlate --embeddings 'OUT/*.embeddings.npy'`).

    Returns the merged records and the merged array's path."""
    os.makedirs(out, exist_ok=True)
    futures = [client.submit(run_shard, convlens, command, manifest, out, i, shards, tuple(args),
                             key=f"convlens-{command}-{i}of{shards}-{os.path.basename(out)}", retries=retries, pure=False)
               for i in range(shards)]
    try:
        client.gather(futures)
    except Exception:
        # A failed shard leaves the others running. Let them finish, and forget the keys, before raising: a rerun
        # started at once would otherwise run a shard twice at the same time, and one copy joins and removes the
        # part files the other is reading.
        wait(futures)
        client.cancel(futures)
        raise
    records, array = merge(out, command, shards)
    if command == "correlate" and reduce_args is not None:
        pattern = os.path.join(out, f"embeddings-*-*of{shards}.embeddings.npy")
        subprocess.run([convlens, "correlate", "--embeddings", pattern, "--out", os.path.join(out, "reduce"), *reduce_args],
                       check=True, stdout=subprocess.DEVNULL)
    return records, array
