"""``python -m imgpipe serve`` (and the admin commands): the reference service's command line."""

import sys

from imgpipe.service.cli import main

sys.exit(main())
