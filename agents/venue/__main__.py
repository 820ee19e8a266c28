"""`python -m agents.venue`: start the paper venue (the simulator lives apart, in paper_venue/)."""

from __future__ import annotations

import sys

from paper_venue.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
