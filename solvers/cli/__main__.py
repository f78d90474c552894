"""``python -m solvers.cli``: the same as the ``coinfer`` command."""

import sys

from .app import main

sys.exit(main())
