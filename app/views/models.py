"""Models: registry, side-by-side comparison, retrain, promote/rollback, upload, settings."""

import pandas as pd
import streamlit as st

from app import common
from app import format as fmt
from app.components import lifecycle, registry, settings_form
from engine.registry.signing import unsigned_warning

st.title("Models")
ws = common.workspace()
if unsigned_warning():  # versions are checked against their hashes, not against forgery
    st.warning(unsigned_warning())
models = ws.models()
registry.render(models)

st.subheader("Retrain, promote, roll back")
admin = common.is_admin()
if not admin:
    common.require_admin()
lifecycle.render_actions(ws, [m["version"] for m in models], admin)
lifecycle.render_upload(ws, admin)

st.subheader("Audit log")
audit = pd.DataFrame(ws.audit_log()[::-1])
st.dataframe(audit.rename(columns=lambda c: fmt.label(c)), hide_index=True, width="stretch")

settings_form.render(ws, admin)
