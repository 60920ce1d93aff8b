"""Sub-commands of the ``evals`` CLI, one module each, each exposing ``register``."""
