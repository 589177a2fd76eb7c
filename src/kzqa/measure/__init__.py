"""Measuring kzqa: BEIR through the real build, its own question sets, calibration."""
