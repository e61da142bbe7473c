"""``python -m agingsim``: the same command line as the ``agingsim`` script (agingsim.cli)."""

import sys

from agingsim.cli import main

sys.exit(main())
