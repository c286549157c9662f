"""``chainrule experiment``: the source text's phenomena as experiments anyone can rerun.

Each subcommand trains a few setups side by side, prints its results table, and writes
``results.csv``, ``results.json``, ``figures/*.png`` and ``index.html`` to its output folder
(``runs/experiment-<name>`` unless ``--out`` says otherwise). ``--quick`` runs a small version.
"""

import click

from ..app import cli, debug_option
from .exploding import exploding
from .learning_rate import learning_rate
from .vanishing import vanishing


@cli.group("experiment")
@debug_option
def experiment():
    """Reproduce vanishing gradients, exploding gradients and bad learning rates.

    \b
    Examples:
      chainrule experiment vanishing        # sigmoid/tanh/ReLU/BatchNorm/residual, 20 layers
      chainrule experiment exploding        # plain RNN on the adding problem, with clipping
      chainrule experiment learning-rate    # a sweep of rates and the LR range test
      chainrule experiment vanishing --quick --out /tmp/v
    """


for command in (vanishing, exploding, learning_rate):
    experiment.add_command(debug_option(command))
