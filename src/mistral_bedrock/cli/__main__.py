"""``python -m mistral_bedrock.cli`` runs the command line."""

from . import main

main()
