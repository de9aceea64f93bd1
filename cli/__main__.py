"""`python -m cli` is the `atelier` command."""

import sys

from cli import main

sys.exit(main())
