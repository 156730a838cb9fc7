"""Intel: the indicator model, advisory extraction and pack formats."""
