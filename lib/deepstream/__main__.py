"""`python -m deepstream ...`: the command-line client (cli.py). Host only."""
import sys

from .cli import main

sys.exit(main())
