"""The ``chainrule`` command line (Click): train, compare, experiment, lr-find, check, explain,
gradcheck.

Run ``chainrule --help`` (or ``python -m chainrule --help``) for the commands; every command has
its own ``--help`` with examples. ``main()`` is the console-script entry point.

Example::

    from chainrule.cli import main
    main(["train", "--epochs", "5", "--name", "demo"])     # exits like the command would
"""

from . import cmd_compare, cmd_doctor, cmd_gradcheck, cmd_tools, cmd_train, experiments  # noqa: F401  (importing registers the commands)
from .app import cli, main

__all__ = ["cli", "main"]
