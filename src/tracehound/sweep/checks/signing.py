"""Check: code signatures of PE (Authenticode) and Mach-O files (see sweep/signature_checks.py)."""

from __future__ import annotations

from tracehound.sources.hosts.walk import Entry
from tracehound.sweep import signature_checks, signing_macho
from tracehound.sweep.checks.base import Check, Context, FileResult, FileView, is_binary, shown

PE_MAX = 256 * 1024 * 1024


class SigningCheck(Check):
    name = "signing"
    order = 30

    def wants(self, e: Entry, ctx: Context) -> bool:
        return bool(ctx.certs or ctx.signers)

    def keep(self, e: Entry, head: bytes, ctx: Context) -> int:
        return PE_MAX if (ctx.certs or ctx.signers) and is_binary(head) else 0

    def check(self, f: FileView, ctx: Context, res: FileResult) -> None:
        if f.data is not None and f.head[:2] == b"MZ":
            res.out.extend(signature_checks.check_pe(f.data, shown(f.name), f.fields, ctx.certs, ctx.signers, ctx.doc))
        if (ctx.certs or ctx.signers) and signing_macho.is_macho(f.head):
            if f.data is None:
                res.skip = "Mach-O larger than the in-memory limit: signature not checked"
                return
            res.out.extend(signature_checks.check_macho(f.data, shown(f.name), f.fields, ctx.certs, ctx.doc))


CHECK = SigningCheck()
