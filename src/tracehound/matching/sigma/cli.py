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


def sigma_setup(paths: tuple[str, ...], explain_rule: str | None, engine: str, quiet: bool,
                pack: Any = None) -> SigmaSession | None:
    """--sigma files and the pack's own Sigma rules (pasted in its advisory: intel/rule_check.py), one rule set."""
    from tracehound.cli.common import err_console, safe

    in_pack = [r for r in pack.rules if r.kind == "sigma"] if pack is not None else []
    if not paths and not in_pack:
        if explain_rule:
            raise UsageError("--explain needs the rules: give --sigma PATH")
        return None
    if engine != "local":
        if paths:
            raise UsageError("--sigma runs with the local engine")
        err_console.print(f"[yellow]the pack's {len(in_pack)} Sigma rules are not run[/]: Sigma runs with the local engine")
        return None
    from tracehound.intel.rule_check import pack_sigma
    from tracehound.matching.sigma.explain import explain
    from tracehound.matching.sigma.hunt import load_report, load_ruleset

    texts = pack_sigma(pack) if in_pack else []
    if not quiet:
        for r in in_pack:
            if r.error:
                err_console.print(f"[yellow]pack Sigma rule {safe(r.name)!r} not run:[/] {safe(r.error)}")
    rules = load_ruleset(list(paths), texts)
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
        if not paths:
            err_console.print("[yellow]no Sigma rule of the pack can be run[/] (see the reasons above)")
            return None
        raise UsageError("--sigma: no rule could be run (see the reasons above)")
    from tracehound.matching.sigma.engine import SigmaStats

    return SigmaSession(rules, quiet, SigmaStats())
