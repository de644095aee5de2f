"""``python -m imgpipe``: the library's command line (see :mod:`imgpipe.cli`)."""

import sys

from imgpipe.cli import main

sys.exit(main())
