"""Host sources for the sweep: a live machine or an offline copy (mounted image, triage folder)."""
