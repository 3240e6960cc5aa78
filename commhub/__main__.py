"""`python -m commhub` is the `commhub` command."""

from commhub.cli import main

main()
