"""The `--sigma`/`--explain` options of `tracehound hunt`, kept out of the command's own module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracehound.errors import UsageError

# pySigma is imported only when --sigma is given: a plain hunt does not pay for it.


@dataclass
class SigmaSession:
    rules: Any  # ruleset.RuleSet
    quiet: bool
    stats: Any  # engine.SigmaStats

    def engine(self, inner: Any) -> Any:
        from tracehound.engines.local_hunt import run_hunt
        from tracehound.matching.sigma.hunt import with_sigma

        return with_sigma(inner or run_hunt, self.rules, self.stats)

    def summary(self) -> dict[str, Any]:
        from tracehound.matching.sigma.hunt import summary_part

        return {"sigma": summary_part(self.rules, self.stats)}

    def print_run(self) -> None:
        from tracehound.cli.common import err_console, safe
        from tracehound.matching.sigma.hunt import run_report

        for line in run_report(self.rules, self.stats):
            err_console.print(safe(line))


def sigma_setup(paths: tuple[str, ...], explain_rule: str | None, engine: str, quiet: bool) -> SigmaSession | None:
    if not paths:
        if explain_rule:
            raise UsageError("--explain needs the rules: give --sigma PATH")
        return None
    if engine != "local":
        raise UsageError("--sigma runs with the local engine")
    from tracehound.cli.common import err_console, safe
    from tracehound.matching.sigma.explain import explain
    from tracehound.matching.sigma.hunt import load_report, load_ruleset

    rules = load_ruleset(list(paths))
    if explain_rule:
        if rules.by_id(explain_rule) is None:
            raise UsageError("--explain: " + " ".join(explain(rules, explain_rule)))
        for line in explain(rules, explain_rule):
            print(line)
        raise SystemExit(0)
    if not quiet:
        for line in load_report(rules):
            err_console.print(safe(line))
    if not rules.rules:
        raise UsageError("--sigma: no rule could be run (see the reasons above)")
    from tracehound.matching.sigma.engine import SigmaStats

    return SigmaSession(rules, quiet, SigmaStats())
