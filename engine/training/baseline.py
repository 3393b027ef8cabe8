"""The plain baseline every training reports beside the outcome model: a logistic regression
(binary target) or a ridge linear regression (numeric target) on the same columns
(median-imputed, standardised numbers with missing-value flags; one-hot categories), so a user
sees what the boosted trees add."""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from engine.schema import Schema

NAMES = {"binary": "logistic regression", "numeric": "linear regression (ridge)"}


def baseline_model(schema: Schema):
    """An unfitted scikit-learn pipeline: DataFrame with the schema's columns -> probability."""
    categorical = list(schema.segments) + schema.category_names
    columns = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True), StandardScaler()), schema.numeric_names),
            ("categories", make_pipeline(SimpleImputer(strategy="constant", fill_value="(missing)"), OneHotEncoder(handle_unknown="ignore")), categorical),
        ]
    )
    numeric = schema.target is not None and schema.target.kind == "numeric"
    # Newton's method on the few standardised columns: exact in a handful of steps, where lbfgs
    # took about 46, each a matrix product that OpenBLAS's threads made 7x slower on 2 cores.
    return make_pipeline(columns, Ridge(alpha=1.0) if numeric else LogisticRegression(solver="newton-cholesky", max_iter=2000))
