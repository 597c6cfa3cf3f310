"""One module per ``poise`` subcommand; each defines ``register(subparsers)``."""
