"""Sigma rules over tracehound's records: pySigma parses, this package evaluates (see docs/sigma.md)."""
