"""The analysis models of one version: segments, peers, anomalies, percentiles, neighbours and
recommendations, the outcome model and its explanations, the analyzer that combines them, its
typed result and the wording of every sentence it shows."""
