"""Monitoring: drift, performance over time, alert rules, champion/challenger routing,
settings and automatic retraining."""
