"""`python -m apmseed` works where the console script's directory is not on PATH."""

from apmseed.cli.main import main

main()
