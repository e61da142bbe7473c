"""``python -m agingsim.sweep sweep|query ...``: the same commands as ``agingsim sweep|query``."""

import sys

from agingsim.cli import main

sys.exit(main())
