"""`python -m biogrn` is the `biogrn` command."""

import sys

from biogrn.cli import main

sys.exit(main())
