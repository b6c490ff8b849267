"""Allow ``python -m trading_agent list``."""

import sys

from trading_agent.cli import main

sys.exit(main())
