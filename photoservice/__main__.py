"""``python -m photoservice``: the same as the ``photoservice`` console script."""

import sys

from .cli import main

sys.exit(main())
