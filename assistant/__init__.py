"""Explainable anomaly Q&A assistant for medical scans.

Research use only: this software is not a medical device and must not be used for diagnosis.
"""

__version__ = "0.1.0"

DISCLAIMER = (
    "Research use only: not a medical device. Findings are produced by an anomaly detector "
    "trained on healthy scans and must be reviewed by a qualified clinician."
)
