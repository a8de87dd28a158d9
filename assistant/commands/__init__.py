"""One module per `assistant` subcommand."""
