"""``python -m agingsim.sweep sweep|query ...``: the sweep commands without the main CLI."""

import sys

from agingsim.sweep.cli import main

sys.exit(main())
