"""tracehound: compromise assessment from advisory to per-host verdict.

Pipeline: intel (advisory -> indicator pack) -> sources (hosts, logs) -> matching
-> findings (ECS JSON Lines) -> outputs (case store, report, exports).
"""

__version__ = "0.1.0"
