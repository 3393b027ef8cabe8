"""How many entities get an anomaly: the share of training rows with at least one, per kind,
on the three built-in datasets (the ratios one heavy-tailed, zero-inflated), a generated
heavy-tailed table (30 log-normal and Student-t ratios,
no planted anomaly) and scikit-learn's breast-cancer table. Each version calibrates its z
cut-off so that at most 5% of its training rows get a value anomaly; rare values and the
isolation forest (1% by construction) come on top. Usage: python benchmarks/bench_anomalies.py"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import load_breast_cancer

from engine import api
from engine.demo import write_customers, write_demo, write_ratios


def heavy_tailed(folder: Path, rows: int = 5000, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"lognormal_{i}": rng.lognormal(0, 1 + i % 3, rows) for i in range(15)})
    frame = frame.join(pd.DataFrame({f"t_{i}": rng.standard_t(2 + i % 3, rows) for i in range(15)}))
    frame.to_csv(folder / "heavy.csv", index=False)
    (folder / "heavy.toml").write_text("".join(f'[[features]]\nname = "{c}"\nbetter = "none"\n' for c in frame.columns))
    return folder / "heavy.csv", folder / "heavy.toml"


def cancer(folder: Path) -> tuple[Path, Path]:
    frame = load_breast_cancer(as_frame=True).frame.drop(columns="target")
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.to_csv(folder / "cancer.csv", index=False)
    (folder / "cancer.toml").write_text("".join(f'[[features]]\nname = "{c}"\nbetter = "none"\n' for c in frame.columns))
    return folder / "cancer.csv", folder / "cancer.toml"


def main() -> None:
    print(f"scikit-learn {sklearn.__version__}\n")
    print("| dataset | rows | features | z cut-off | any anomaly | value | rare value | gap | isolation forest |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo, customers = write_demo(tmp / "demo", n_companies=5000), write_customers(tmp / "customers", n=5000)
        ratios = write_ratios(tmp / "ratios", n=5000)
        tables = {
            "companies (demo)": (demo["companies"], demo["schema"]),
            "customers": (customers["customers"], customers["schema"]),
            "firms' ratios (built-in, heavy-tailed)": (ratios["ratios"], ratios["schema"]),
            "heavy-tailed, generated": heavy_tailed(tmp),
            "breast cancer (scikit-learn)": cancer(tmp),
        }
        for name, (data, schema) in tables.items():
            ws = api.workspace(tmp / f"home-{len(name)}")
            ws.train(data, schema)
            model = ws.champion()
            frame, _ = ws.load_dataset(data, model.schema)
            kinds = {"value": 0, "rare value": 0, "gap": 0, "multivariate": 0}
            rows = frame.sample(min(len(frame), 1000), random_state=0).to_dict("records")
            any_count = 0
            for row in rows:
                found = {a["kind"] for a in model.analyze(row).anomalies}
                any_count += bool(found)
                for k in found:
                    kinds[k] += 1
            share = {k: v / len(rows) for k, v in kinds.items()}
            print(f"| {name} | {len(frame):,} | {len(model.schema.features)} | {model.z_cut:.2f} | {any_count / len(rows):.1%} | "
                  f"{share['value']:.1%} | {share['rare value']:.1%} | {share['gap']:.1%} | {share['multivariate']:.1%} |")


if __name__ == "__main__":
    main()
