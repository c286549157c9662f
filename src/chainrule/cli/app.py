"""The ``chainrule`` command group and its error handling.

Exit codes: 0 success, 1 failure, 2 usage error (unknown or inconsistent options, a bad config
key, a missing data file), 130 interrupted (Ctrl-C). Errors are one line on stderr; ``--debug``
(anywhere on the command line, or ``CHAINRULE_DEBUG=1``) adds the Python traceback.
"""

import os
import sys
import traceback

import click

from .. import __version__

INTERRUPTED = 130


def _debug_requested(args):
    args = list(args)
    cut = args.index("--") if "--" in args else len(args)
    return "--debug" in args[:cut] or os.environ.get("CHAINRULE_DEBUG", "") not in ("", "0")


def _one_line(text):
    return " ".join(str(text).split())


def _usage_hint(e):
    ctx = getattr(e, "ctx", None)
    return f" (see '{ctx.command_path} --help')" if ctx is not None else ""


class ChainruleGroup(click.Group):
    """A click group whose errors are one line (with the traceback under ``--debug``)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = sys.argv[1:] if args is None else list(args)
        code = self._run(args, prog_name or "chainrule", complete_var, **extra)
        if not standalone_mode:
            return code
        sys.exit(code)

    def _run(self, args, prog_name, complete_var, **extra):
        debug = _debug_requested(args)
        try:
            code = super().main(
                args or ["--help"], prog_name, complete_var, standalone_mode=False, **extra
            )
        except click.UsageError as e:
            click.echo(f"Error: {_one_line(e.format_message())}{_usage_hint(e)}", err=True)
            return e.exit_code
        except click.ClickException as e:
            click.echo(f"Error: {_one_line(e.format_message())}", err=True)
            return e.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            return INTERRUPTED
        except Exception as e:  # noqa: BLE001  (the one place every failure is reported)
            if debug:
                traceback.print_exc()
            click.echo(
                f"Error: {type(e).__name__}: {_one_line(e)}"
                + ("" if debug else " (run with --debug for the traceback)"),
                err=True,
            )
            return 1
        # Without an error, click returns what ctx.exit() set, else the command's return value.
        return code if isinstance(code, int) else 0


def debug_option(f):
    """``--debug`` on a subcommand (read from the raw arguments by the group)."""
    return click.option(
        "--debug", is_flag=True, expose_value=False, help="Show the Python traceback of an error."
    )(f)


@click.group(
    cls=ChainruleGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="chainrule")
@debug_option
def cli():
    """chainrule: train neural networks by backpropagation and see what the gradients do.

    \b
    Examples:
      chainrule train                          # an MLP on the bundled digits, with a health report
      chainrule train --depth 20 --activation sigmoid --init normal --optimizer sgd
      chainrule experiment vanishing           # sigmoid vs tanh vs ReLU vs BatchNorm vs residual
      chainrule lr-find                        # the learning-rate range test
      chainrule check --depth 30 --activation tanh --init normal
      chainrule explain                        # the chain rule, one weight, step by step
      chainrule gradcheck                      # verify every op against finite differences
    """


def main(argv=None):
    """Entry point of the ``chainrule`` script and ``python -m chainrule``."""
    return cli.main(args=argv, prog_name="chainrule")
