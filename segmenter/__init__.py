"""Rendering one media segment on request: sample clips, draw, synthesise audio, encode, mux."""
