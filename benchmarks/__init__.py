"""Measurements of skdec that are too long for the unit tests."""
