"""Log sources: streaming readers that turn records into normalized observations."""
