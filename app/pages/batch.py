"""Batch: upload a table, score every row with progress, preview and download."""

import streamlit as st

from app import common, uploads

st.title("Batch scoring")
schema = common.schema_dict()
st.caption("Upload a CSV or Parquet table with the columns of the schema: "
           + ", ".join(((schema.get("segments") or {}).get("columns", [])) + [f["name"] for f in schema["features"]]) + ".")
upload = st.file_uploader("Table to score", type=list(uploads.TABLE_TYPES), key="batch_upload")
if upload is not None and st.button("Score the table", type="primary", key="batch_go"):
    bar = st.progress(0.0, text="Scoring")
    st.session_state.pop("batch_result", None)  # a failed upload must not leave old scores to download
    with common.user_errors():
        frame = uploads.read_table(upload.name, upload.getvalue())
        scored = common.workspace().score(frame, progress=lambda step, f: bar.progress(min(1.0, float(f)), text=f"Scoring ({f:.0%})"))
        bar.progress(1.0, text=f"Scored {len(scored):,} rows")
        st.session_state["batch_result"] = scored
result = st.session_state.get("batch_result")
if result is not None:
    st.success(f"{len(result):,} rows scored.")
    st.dataframe(result.head(200), width="stretch")
    st.download_button("Download scores (CSV)", result.to_csv(index=False), file_name="scores.csv", mime="text/csv")
