"""`python -m kg.cli ...`, as the `kg` script."""
import sys

from . import main

sys.exit(main())
