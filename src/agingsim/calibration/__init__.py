"""Calibration of the ability model to published Chinese data (issue 9)."""
