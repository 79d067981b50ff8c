"""Recorded Bedrock: the ``replay:DIR`` engine, which plays a cassette back and, in a record mode, records one.

``serve --record DIR`` is the same engine in mode ``all``: a proxy to Amazon Bedrock that writes every answer down.
See docs/TESTING.md for the workflow and the cassette format.
"""

from .replay import Redactor, ReplayEngine
from .settings import RecordMode, ReplaySettings, Timing

__all__ = ["RecordMode", "Redactor", "ReplayEngine", "ReplaySettings", "Timing"]
