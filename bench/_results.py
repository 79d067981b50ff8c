"""Where every benchmark script leaves its figures: ``--json PATH``, read back by ``python -m bench``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["write_results"]


def write_results(path: Path | None, info: dict[str, Any], results: Any) -> None:
    """Write ``{"info": …, "results": …}`` to ``path`` (its folder made if missing); nothing when ``path`` is None."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"info": info, "results": results}, indent=2) + "\n")
