"""The ``coinfer`` command line: :func:`main` (console script ``coinfer``).

:mod:`.framework` holds what every command shares (exit codes, errors,
tables, the progress bar); :mod:`.app` parses arguments and maps errors to
exit codes; one module per problem kind adds that kind's commands.
"""

from .framework import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, UsageError, format_table
from .app import build_parser, main

__all__ = ["main", "build_parser", "format_table", "UsageError", "EXIT_OK", "EXIT_INPUT", "EXIT_INTERNAL"]
