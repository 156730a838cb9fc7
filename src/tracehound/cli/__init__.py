"""Command line: `tracehound <command>`. Errors on bad input print one line, never a traceback."""

from __future__ import annotations

import importlib
import os
import sys

import click

from tracehound import __version__
from tracehound.cli.common import error_line, one_line
from tracehound.errors import TracehoundError

EXIT_INTERNAL = 70
EXIT_IO = 74  # sysexits EX_IOERR: an output or input the system refused (disk full, not a folder...)
EXIT_INTERRUPTED = 130


# command -> (module of tracehound.cli, attribute): a command's module is imported when it is run, so
# `tracehound hunt --store` does not pay for importing sweep, export, case and the rest at every start.
_COMMANDS = {"intel": ("intel", "intel"), "hunt": ("hunt", "hunt"), "index": ("index", "index"), "sweep": ("sweep", "sweep"),
             "case": ("case", "case"), "report": ("case", "report"), "scope": ("scope", "scope"), "demo": ("demo", "demo"),
             "export": ("export", "export"), "watch": ("watch", "watch")}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            module, attr = _COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(f"tracehound.cli.{module}"), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tracehound")
def cli() -> None:
    """Compromise assessment for supply-chain incidents.

    \b
    Typical flow during an incident:
      tracehound intel extract advisory.html -o pack.json   # advisory -> indicators
      tracehound scope inventory.csv -o scope.jsonl          # which hosts run affected versions
      tracehound sweep --root /mnt/host1 -o host1.jsonl      # files, signatures, versions on a host
      tracehound hunt /var/log/squid/ -o hunt.jsonl          # C2 contacts in weeks of logs
      tracehound case init case/ && tracehound case add case/ *.jsonl
      tracehound report case/ -o report.html                 # verdict per host
      tracehound export --all -o blocklists/                 # IDS, SIEM, YARA, DNS, firewall, EDR, STIX, MISP
    Without --intel, commands use the built-in 3CX pack (see 'tracehound intel list').
    """


def _register() -> None:
    """Every command loaded (for callers that read `cli.commands`); `main` loads only the one run."""
    for name in _COMMANDS:
        cli.get_command(click.Context(cli), name)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="tracehound", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("tracehound: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a command group without its subcommand: its own help text
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        # One style for every usage and input error: click's 'Error: Invalid value ...' reads like ours.
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        error_line(exc.format_message() + hint, collapse=True)
        sys.exit(exc.exit_code)
    except TracehoundError as exc:
        error_line(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("tracehound: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except OSError as exc:  # a file the command had to write or read: the system's reason, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        error_line(f"{where}{exc.strerror or exc}")
        sys.exit(EXIT_IO)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, not a traceback
        if os.environ.get("TRACEHOUND_DEBUG"):
            raise
        click.echo(one_line(f"tracehound: internal error: {type(exc).__name__}: {exc} "
                            "(TRACEHOUND_DEBUG=1 shows the traceback)"), err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(0)
