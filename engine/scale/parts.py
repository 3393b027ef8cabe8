"""Which Parquet files a PATH names, where each one's output part goes, and the columns its
folder names carry (Hive-style partitioning: ``region=north/part-0.parquet``)."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from urllib.parse import unquote

import pandas as pd

from engine.errors import DataError

PARQUET = (".parquet", ".pq")
HIVE_MISSING = "__HIVE_DEFAULT_PARTITION__"  # how Hive, Spark and pyarrow write a missing value


def parquet_parts(path: str | os.PathLike) -> tuple[Path, list[Path]]:
    """-> (root, parts): a Parquet file, a folder of Parquet parts (searched below it) or a
    glob; ``root`` is the folder the parts' names are taken relative to, so the output keeps
    the input's partitioning."""
    text = str(path)
    if glob.has_magic(text):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        what = f"the pattern {text}"
    elif Path(text).is_dir():
        files = sorted(p for p in Path(text).rglob("*") if p.is_file() and p.suffix.lower() in PARQUET and not p.name.startswith((".", "_")))
        what = f"the folder {text}"
    elif Path(text).is_file():
        files = [Path(text)]
        what = text
    else:
        raise DataError(f"--data {text} does not exist; expected a Parquet file, a folder of Parquet parts or a glob such as 'parts/*.parquet'.")
    if not files:
        raise DataError(f"--data: {what} holds no Parquet file; expected files ending in .parquet.")
    wrong = [str(f) for f in files if f.suffix.lower() not in PARQUET]
    if wrong:
        raise DataError(f"--data: {wrong[:3]} {'is' if len(wrong) == 1 else 'are'} not Parquet; scoring on parts reads Parquet only (convert a CSV with pandas: pd.read_csv(f).to_parquet(...)).")
    root = Path(os.path.commonpath([str(f.resolve().parent) for f in files]))
    return root, [f.resolve() for f in files]


def is_partitioned(path: str | os.PathLike) -> bool:
    """A folder or a glob: the input of a scoring on parts."""
    return glob.has_magic(str(path)) or Path(path).is_dir()


def new_output_folder(out: str | os.PathLike) -> Path:
    """The folder the output parts go to: new, or existing and empty (nothing is overwritten)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} is a file; scoring on parts writes a folder of Parquet parts: name a new or empty folder.")
    if out.is_dir() and any(out.iterdir()):
        raise DataError(f"--out {out} already holds files; expected a new or empty folder (nothing was written).")
    if not out.parent.is_dir():
        raise DataError(f"--out {out}: the folder {out.parent} does not exist; expected a path in an existing folder.")
    return out


def partition_values(part: str | os.PathLike) -> dict[str, str | None]:
    """The ``key=value`` folders directly above a part (the unbroken run of them, as Hive-style
    writers nest them), outermost first: {"year": "2024", "region": "north"}. A ``key=value``
    folder higher up, above a plain one, is not a partition. Values are text (percent-escapes
    undone), as in a CSV; the schema check converts them."""
    values: dict[str, str | None] = {}
    for folder in reversed(Path(part).parent.parts):
        key, sep, value = folder.partition("=")
        if not (sep and key):
            break
        value = unquote(value)
        values[unquote(key)] = None if value == HIVE_MISSING else value
    return dict(reversed(values.items()))


def with_partition_columns(frame: pd.DataFrame, part: str | os.PathLike) -> pd.DataFrame:
    """``frame`` with the columns its part's folder names carry, where the file lacks them
    (writers of Hive-style partitions leave the partition column out of the files)."""
    missing = {k: v for k, v in partition_values(part).items() if k not in frame.columns}
    return frame.assign(**{k: pd.Series([v] * len(frame), index=frame.index, dtype=object) for k, v in missing.items()}) if missing else frame
