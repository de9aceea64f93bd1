"""`python -m infrastructure.cli` is the `atelier` command."""

import sys

from infrastructure.cli import main

sys.exit(main())
