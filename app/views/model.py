"""Model & explanations: cross-validated and held-out metrics beside the plain baseline, each
labelled with the validation it comes from; curves; global SHAP."""

import pandas as pd
import streamlit as st

from app import charts, common
from app import format as fmt

st.title("Model & explanations")
d = common.details()
metrics, expl = d["metrics"], d["explanations"]
# Every explained column: the features' labels, and segment columns named as the Analyze page names them.
features = common.features()
labels = {n: f["label"] for n, f in features.items()} | {n: fmt.label(n) for n in (expl or {}).get("dependence", {}) if n not in features}
if "holdout" not in metrics:
    st.info("This version has no outcome model (its schema has no target), so there is nothing to evaluate.")
    st.stop()

train_rows, held_rows = metrics.get("train_rows", 0), metrics["holdout"].get("n", 0)
served_rows = metrics.get("final_rows", train_rows)
if served_rows >= train_rows + held_rows:  # validated, then refitted on every labelled row
    st.caption(f"Version {d['manifest']['version']} · validated on {train_rows:,} training rows and {held_rows:,} held-out rows · "
               f"the model served is refitted on all {served_rows:,} labelled rows.")
else:  # a large table: the validated model itself is served
    st.caption(f"Version {d['manifest']['version']} · the model served was fitted on {served_rows:,} training rows, stopped early on "
               f"{train_rows - served_rows:,} others and measured on {held_rows:,} held-out rows it never saw: the held-out numbers are its own.")
left_out = metrics.get("left_out")
if left_out:  # rows the schema refused, within the share training may leave out
    st.warning(f"{left_out['rows']:,} of {left_out['of']:,} training rows were left out because they fail the schema: " + "; ".join(left_out["problems"]) + ".")
numeric = "rmse" in metrics["holdout"]
names = ["rmse", "mae", "r2"] if numeric else ["accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier"]


def three(v) -> str:
    return "—" if v is None else f"{v:.3f}"


columns = {"Metric": [fmt.metric_name(n) for n in names]}
if "cv" in metrics:  # a version trained on Dask or on over 20,000 training rows: held-out rows only
    columns["Cross-validated"] = [f"{three(metrics['cv'][n])} ± {three(metrics['cv'].get(n + '_std'))}" for n in names]
columns["Held-out"] = [three(metrics["holdout"][n]) for n in names]
if "out_of_time" in metrics:  # a later period: what a random split overstates
    columns["Out-of-time"] = [three(metrics["out_of_time"][n]) for n in names]
baseline = metrics.get("baseline")
if baseline:  # the same validation, a plain model: what the boosted trees add
    columns[f"Baseline ({baseline['model']}), held-out"] = [three(baseline["holdout"][n]) for n in names]
    if "out_of_time" in baseline:
        columns["Baseline, out-of-time"] = [three(baseline["out_of_time"][n]) for n in names]
table = pd.DataFrame(columns)
m = st.columns(4)
if numeric:
    m[0].metric("Held-out RMSE", fmt.number(metrics["holdout"]["rmse"]), help=fmt.metric_help("rmse"))
    m[1].metric("Held-out MAE", fmt.number(metrics["holdout"]["mae"]), help=fmt.metric_help("mae"))
    m[2].metric("Held-out R²", three(metrics["holdout"]["r2"]), help=fmt.metric_help("r2"))
else:
    m[0].metric("Held-out ROC AUC", f"{metrics['holdout']['roc_auc']:.3f}", help=fmt.metric_help("roc_auc"))
    m[1].metric("Held-out accuracy", f"{metrics['holdout']['accuracy']:.1%}", help=fmt.metric_help("accuracy"))
    m[2].metric("Held-out F1", f"{metrics['holdout']['f1']:.3f}", help=fmt.metric_help("f1"))
    m[3].metric("Brier score", f"{metrics['holdout']['brier']:.3f}", help=fmt.metric_help("brier"))
left, right = st.columns(2)
left.dataframe(table, hide_index=True, width="stretch", column_config={"Metric": st.column_config.Column(help="Hover a metric's name above for its meaning.")})
left.caption(" · ".join(f"**{fmt.metric_name(n)}**: {fmt.metric_help(n)}" for n in names))
for what, text in (metrics.get("validation") or {}).items():
    left.caption(f"**{ {'cv': 'Cross-validated', 'holdout': 'Held-out', 'out_of_time': 'Out-of-time', 'trees': 'Model size'}.get(what, what) }**: {text}.")
if baseline:
    key, name = ("r2", "R²") if numeric else ("roc_auc", "ROC AUC")
    ours, theirs = three(metrics["holdout"][key]), three(baseline["holdout"][key])
    if "—" not in (ours, theirs):  # the difference of the numbers shown, not of unrounded ones
        left.caption(f"Held-out {name} {ours} against {theirs} for the baseline ({float(ours) - float(theirs):+.3f}).")
if "confusion_matrix" in metrics["holdout"]:
    common.chart(charts.plot_confusion(metrics["holdout"]["confusion_matrix"], title="Confusion matrix (held-out)"), "confusion", right)

curves = metrics.get("curves", {})
c = st.columns(3)
if "roc" in curves:
    common.chart(charts.plot_curve(curves["roc"]["fpr"], curves["roc"]["tpr"], "False positive rate", "True positive rate", "ROC curve", diagonal=True), "roc", c[0])
if "pr" in curves:
    common.chart(charts.plot_curve(curves["pr"]["recall"], curves["pr"]["precision"], "Recall", "Precision", "Precision–recall curve"), "pr", c[1])
if "calibration" in curves:
    common.chart(charts.plot_curve(curves["calibration"]["predicted"], curves["calibration"]["observed"], "Predicted probability", "Observed rate", "Calibration", diagonal=True), "calibration", c[2])

st.subheader("Global explanations (SHAP)")
st.caption(f"{expl.get('method', '')} on {expl.get('sample_size', 0):,} {fmt.entity(common.schema_dict())['plural']}. "
           + ("SHAP splits each prediction into one contribution per feature, in the target's units; "
              if numeric else "SHAP splits each prediction into one contribution per feature, in log-odds (the scale the model adds up before turning the sum into a probability; +1 multiplies the odds by about 2.7); ")
           + "the importance is the average size of a feature's contribution, the dependence shows how it changes with the feature's value.")
left, right = st.columns(2)
unit = "target units" if numeric else "log-odds"
common.chart(charts.plot_importance(expl["importance"], labels, title="Average size of each feature's contribution", unit=unit), "importance", left)
dep = expl.get("dependence", {})
if dep:
    feature = right.selectbox("Dependence of", list(dep), format_func=lambda n: labels.get(n, n), key="dep_feature")
    common.chart(charts.plot_dependence(dep[feature]["value"], dep[feature]["shap"], labels.get(feature, feature), title="SHAP dependence", unit=unit), "dependence", right)
