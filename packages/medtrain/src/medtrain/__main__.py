"""`python -m medtrain` = the `medtrain` command."""

from medtrain.cli import main

main()
