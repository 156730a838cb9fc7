"""Sources of observations: logs (hunt) and hosts (sweep)."""
