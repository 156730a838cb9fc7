"""Outputs: the case store, reports and exports."""
