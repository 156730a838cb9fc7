"""Matching: indicator semantics (matcher) and the fast literal prefilter in front of it."""
