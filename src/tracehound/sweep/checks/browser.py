"""Check: browser history and downloads (Chromium family, Firefox; with -wal/-journal) against URL,
domain and IP indicators."""

from __future__ import annotations

from typing import Any

from tracehound.sources.hosts.walk import Entry
from tracehound.sweep import browsers
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView, shown


class BrowserCheck(Check):
    name = "browser"
    order = 50

    def wants(self, e: Entry, ctx: Context) -> bool:
        return bool(browsers.browser_of(e.rel))

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        b = browsers.browser_of(f.e.rel)
        if b:
            res.out.extend(_check_history(f.e, b, res.notes, ctx))


def _check_history(e: Entry, browser: str, note: list[str], ctx: Context) -> list[dict[str, Any]]:
    matcher = ctx.matcher
    out = []
    try:
        for rec in browsers.history_records(e, browser):
            url, last, count = rec.url, rec.when, rec.count
            ind = matcher.url(url)
            fld = "url.full"
            if ind is None:
                from tracehound.matching.normalize import norm_url

                host = norm_url(url)[0]
                ind = matcher.domain(host) or matcher.ip(host)
                fld = "url.domain"
            if ind is None:
                continue
            if rec.kind == "download":
                out.append(ctx.doc("browser", "compromised", f"{browser} downloads: a file downloaded from an indicator "
                                   f"({shown(rec.target) or 'target not recorded'})", [(ind, fld, url)], category="web",
                                   fields={"url.full": url, "file.path": shown(e.path), "tracehound.download_path":
                                           shown(rec.target) or None, "tracehound.download_time":
                                           last.isoformat() if last else None, "tracehound.browser": browser}))
                continue
            out.append(ctx.doc("browser", "compromised", f"{browser} history: visit to an indicator ({count} visits)",
                               [(ind, fld, url)], category="web",
                               fields={"url.full": url, "file.path": shown(e.path), "tracehound.last_visit":
                                       last.isoformat() if last else None, "tracehound.browser": browser}))
    except browsers.HistoryLimit as exc:  # hostile database: refused or stopped, counted in the summary
        note.append(f"browser history {exc.kind}")
        out.append(ctx.doc("browser", "info", f"{browser} history {exc.kind}: {exc}", [],
                           fields={"file.path": shown(e.path)}))
    except Exception as exc:  # noqa: BLE001 - corrupt or locked databases must not stop the sweep
        note.append("browser history unreadable")
        out.append(ctx.doc("browser", "info", f"{browser} history unreadable: {type(exc).__name__}: {exc}", [],
                           fields={"file.path": shown(e.path)}))
    return out


CHECK = BrowserCheck()
