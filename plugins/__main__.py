"""Allow ``python -m plugins list``."""

import sys

from plugins.cli import main

sys.exit(main())
