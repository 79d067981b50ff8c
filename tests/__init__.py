"""The test suite, a package tree: helpers are imported by their full name (``from tests.cli.cli_support import …``),
so two folders may hold modules of the same name, and no folder is put on ``sys.path`` for its helpers."""
