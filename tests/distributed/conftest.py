"""tests/distributed: mpi_helpers is importable (scripts/ hold what runs on each rank)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
collect_ignore = ["scripts"]
