"""Run a ConvLens dataset command over a Dask cluster: one task per shard, retried on failure, then merge and reduce.

Why Dask: `dask.distributed` schedules plain Python functions (here: one subprocess per shard) on a LocalCluster
for tests and, unchanged, on Kubernetes, SLURM, PBS, SGE and the clouds through dask-jobqueue / dask-kubernetes;
it retries a task whose worker died and restarts dead workers (the nanny), so this package only says what to run.
Ray Data's `map_batches` wants to own the batching and the data flow, while ConvLens already streams, shards and
resumes by itself; a task per shard is exactly Dask's unit, with no object store or actor pool to size.

The work itself stays in ConvLens: `--shard i/N` picks a stable part of the manifest by a hash of each path, the
outputs are committed batch by batch, and a rerun skips what is done. So a shard whose worker is killed is simply
run again (by Dask's retry or by rerunning `run`), and loses nothing but the batch in flight.
"""
from .run import run, run_shard, merge, ShardFailed

__all__ = ["run", "run_shard", "merge", "ShardFailed"]
