"""`python -m eval.qa`: see `eval.qa.cli`."""

import sys

from eval.qa.cli import main

sys.exit(main())
