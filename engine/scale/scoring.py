"""Batch scoring on parts: one task per input Parquet part, in-process or on a Dask cluster.

Every part is read batch by batch, checked by the one table validation and scored by the
in-process ``Analyzer.score``, and written as one output part with the input part's name. Scores
are row by row, so they equal the in-process scores of the whole table to the last bit however
the table is cut. Output parts are staged in a hidden folder and moved into place only when
every part succeeded: a bad part leaves ``--out`` as it was.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import time
import uuid
from pathlib import Path

from engine.errors import DataError
from engine.scale.parts import new_output_folder, parquet_parts, with_partition_columns

BATCH_ROWS = 100_000  # rows held in memory per worker at a time (about 100 MB for 20 features)


def score_parts(workspace, data, out, *, scheduler: str | None = None, ref: str | None = None, progress=None, batch_rows: int = BATCH_ROWS) -> dict:
    """Score every part of ``data`` with the served version (or ``ref``) into the folder ``out``.
    -> {"model_version", "rows", "parts", "out", "seconds", "workers": [{"host", "pid", "parts",
    "rows", "peak_rss_mb"}]}."""
    started = time.monotonic()
    version = workspace.version(ref or "champion")
    workspace.model(version)  # verified here first: a refused version fails before any work
    root, files = parquet_parts(data)
    out = new_output_folder(out)
    created = not out.exists()
    staging = out / f".partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    tasks = [(str(src), str(staging / src.relative_to(root))) for src in files]
    home = str(workspace.home.resolve())
    try:
        results = _run(tasks, home, version, batch_rows, scheduler, progress)
        for _, dst in tasks:  # every part succeeded: move them into place
            final = out / Path(dst).relative_to(staging)
            final.parent.mkdir(parents=True, exist_ok=True)
            if Path(dst).exists():
                os.replace(dst, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return {
        "model_version": version,
        "rows": sum(r["rows"] for r in results),
        "parts": len(files),
        "out": str(out),
        "seconds": round(time.monotonic() - started, 2),
        "scheduler": scheduler,
        "workers": _by_worker(results),
    }


def _run(tasks, home, version, batch_rows, scheduler, progress) -> list[dict]:
    report = progress or (lambda stage, fraction: None)
    if scheduler is None:
        results = []
        for i, (src, dst) in enumerate(tasks):
            results.append(score_part(home, version, src, dst, batch_rows))
            report(f"scored {i + 1} of {len(tasks)} parts", (i + 1) / len(tasks))
        return results
    from distributed import as_completed

    from engine.scale.cluster import dask_client

    with dask_client(scheduler) as client:
        futures = [client.submit(score_part, home, version, src, dst, batch_rows, key=f"score-{i}-{uuid.uuid4().hex[:6]}", pure=False) for i, (src, dst) in enumerate(tasks)]
        results = []
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                results.append(future.result())  # a part's error is raised here, as raised there
                report(f"scored {done} of {len(tasks)} parts", done / len(tasks))
        except BaseException:
            client.cancel(futures)
            raise
        return results


def score_part(home: str, version: str, src: str, dst: str, batch_rows: int = BATCH_ROWS) -> dict:
    """Score one Parquet part into ``dst`` (runs on a worker; the version is loaded once per
    process and verified). -> {"rows", "host", "pid", "peak_rss_mb"}."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from engine.api import workspace
    from engine.schema import check_frame

    if not (Path(home) / "models" / version).is_dir():
        raise DataError(f"the worker on {socket.gethostname()} cannot see version {version} in {home}; Dask workers need the home folder (the model registry) at the same path as the client.")
    model = workspace(home).model(version)
    try:
        part = pq.ParquetFile(src)
    except FileNotFoundError:
        raise DataError(f"the worker on {socket.gethostname()} cannot read {src}; Dask workers need the input parts at the same path as the client.") from None
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise DataError(f"{src}: could not be read as a Parquet table ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}).") from None
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    rows, writer = 0, None
    one_batch = part.metadata.num_rows <= batch_rows
    try:
        for batch in part.iter_batches(batch_size=batch_rows):
            frame = with_partition_columns(batch.to_pandas(), src)
            source = src if one_batch else f"{src} (rows {rows:,} to {rows + len(frame) - 1:,}, numbered from 0 within them)"
            scored = model.score(check_frame(frame, model.schema, source=source))
            table = pa.Table.from_pandas(scored, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(dst, table.schema)
            writer.write_table(table if table.schema.equals(writer.schema) else table.cast(writer.schema))
            rows += len(frame)
    finally:
        if writer is not None:
            writer.close()
    return {"rows": rows, "host": socket.gethostname(), "pid": os.getpid(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _by_worker(results: list[dict]) -> list[dict]:
    workers: dict[tuple, dict] = {}
    for r in results:
        w = workers.setdefault((r["host"], r["pid"]), {"host": r["host"], "pid": r["pid"], "parts": 0, "rows": 0, "peak_rss_mb": 0.0})
        w["parts"] += 1
        w["rows"] += r["rows"]
        w["peak_rss_mb"] = round(max(w["peak_rss_mb"], r["peak_rss_mb"]), 1)
    return list(workers.values())
