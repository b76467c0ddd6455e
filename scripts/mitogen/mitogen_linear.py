"""mitogen's linear strategy, from the installed mitogen package, for this checkout's ansible.cfg.

ansible.cfg names this directory in `strategy_plugins`, so the setting does not depend on where
the venv keeps its site-packages (its Python version). mitogen runs each module in a warm
interpreter instead of starting a new Python (and importing boto3) for every task.
"""

from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule

__all__ = ["StrategyModule"]
