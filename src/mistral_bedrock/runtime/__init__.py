"""The local Bedrock runtime: Bedrock's wire protocol for Mistral models, offline.

Requires the ``runtime`` extra (starlette, granian, uvicorn).
"""

from .app import CONTROL_PREFIX, RuntimeApp, RuntimeState, app_from_env, create_app
from .config import RuntimeConfig
from .fault_specs import parse_fault_spec
from .faults import FaultController, FaultRule
from .server import InsecureBindError, check_bind, serve
from .server_thread import ServerThread

__all__ = [
    "CONTROL_PREFIX",
    "FaultController",
    "FaultRule",
    "InsecureBindError",
    "RuntimeApp",
    "RuntimeConfig",
    "RuntimeState",
    "ServerThread",
    "app_from_env",
    "check_bind",
    "create_app",
    "parse_fault_spec",
    "serve",
]
