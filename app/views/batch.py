"""Batch: upload a table, score every row with progress, preview and download. The scores on
screen belong to the uploaded file and the version that scored it: another file, a failed
upload or a new champion clears them."""

import streamlit as st

from app import common, uploads
from app.components.scores import scores_table

st.title("Batch scoring")
schema = common.schema_dict()
st.caption("Upload a CSV or Parquet table with the columns of the schema: "
           + ", ".join(((schema.get("segments") or {}).get("columns", [])) + [f["name"] for f in schema["features"]]) + ".")
upload = st.file_uploader("Table to score", type=list(uploads.TABLE_TYPES), key="batch_upload")
key = (upload.file_id, common.version()) if upload is not None else None
if st.session_state.get("batch_key") != key:
    st.session_state.pop("batch_result", None)
if upload is not None and st.button("Score the table", type="primary", key="batch_go"):
    st.session_state.pop("batch_result", None)  # a failed scoring must not leave old scores to download
    bar = st.progress(0.0, text="Scoring")
    with common.user_errors():
        frame = uploads.read_table(upload.name, upload.getvalue())
        scored = common.workspace().score(frame, progress=lambda step, f: bar.progress(min(1.0, float(f)), text=f"Scoring ({f:.0%})"))
        bar.progress(1.0, text=f"Scored {len(scored):,} rows")
        st.session_state["batch_result"], st.session_state["batch_key"] = scored, key
result = st.session_state.get("batch_result")
if result is not None:
    table, meaning = scores_table(result, schema)
    st.success(f"{len(result):,} rows of {upload.name} scored by model {key[1]}.")
    st.dataframe(table.head(200), hide_index=True, width="stretch",
                 column_config={c: st.column_config.Column(help=m) for c, m in meaning.items()})
    d1, d2 = st.columns(2)
    d1.download_button("Download scores (CSV)", table.to_csv(index=False), file_name="scores.csv", mime="text/csv", key=f"dl_scores_{key[0]}")
    d2.download_button("Download raw engine columns (CSV)", result.to_csv(index=False), file_name="scores_raw.csv", mime="text/csv",
                       key=f"dl_raw_{key[0]}", help="The engine's column names and full precision, as `benchai score` writes them.")
