"""Sweep: check one endpoint (live or an offline copy) for exposure and compromise.

Each check is its own module; the engine walks the tree once and hands each file to the
checks that want it, so a file is read at most once.
"""
