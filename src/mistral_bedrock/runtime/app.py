"""The local Bedrock runtime as an ASGI app, built by a factory (no module-level state).

Routing works on the *raw* path: ``/model/{label}/{operation}`` is split on literal ``/`` before the label is
percent-decoded, so ARNs whose ``/`` arrives as ``%2F`` stay one label and a raw ``:`` is accepted too. The
reserved prefix ``/_mistral_bedrock/`` holds the control endpoints, under the same auth as the rest (health
excepted, see :class:`_ControlPlane`):

=============================================  =====================================================
``GET /_mistral_bedrock/health``               liveness and the engine's name
``GET|POST|DELETE /_mistral_bedrock/faults``   list, add (a JSON rule or a list of them), or clear fault rules
``GET|DELETE /_mistral_bedrock/requests``      the journal of received requests; clear it
=============================================  =====================================================
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mistral_bedrock.catalog import INVALID_MODEL_MESSAGE, ResolvedModel, resolve
from mistral_bedrock.engines import Engine, build_engine, close_engine
from mistral_bedrock.engines.memo import configure as configure_memo
from mistral_bedrock.engines.relay import Relay
from mistral_bedrock.errors import BedrockError, UnknownOperationException, ValidationException
from mistral_bedrock.formats.messages import MALFORMED
from mistral_bedrock.formats.service_constraints import check_envelope
from mistral_bedrock.formats.window import WindowPolicy
from mistral_bedrock.prompt.tokenizers import get_tokenizer
from mistral_bedrock.protocol.error_codes import ERROR_CODES
from mistral_bedrock.protocol.operations import Operation, operation_for_suffix, split_model_path

from .asgi import header_pairs, raw_path, read_body, read_request
from .auth import AuthPolicy, AuthRequest, Principal, parse_auth_spec
from .batch import BATCH_PATHS, BatchEndpoint, batch_endpoint
from .config import RuntimeConfig
from .fault_specs import parse_fault_spec
from .faults import NO_FAULTS, FaultController, FaultRule, Faults
from .handlers import HANDLERS, Call, Response
from .journal import Journal, JournalEntry
from .pacing import Pacing
from .request_ids import new_request_id
from .responses import JSONBytesResponse, error_response, outcome
from .store import open_store

__all__ = ["CONTROL_PREFIX", "RuntimeApp", "RuntimeState", "app_from_env", "create_app"]

CONTROL_PREFIX = "/_mistral_bedrock"
logger = logging.getLogger("mistral_bedrock.runtime")


@dataclass
class RuntimeState:
    """What one app instance holds: its engine, fault rules, auth policy and journal."""

    engine: Engine | Relay
    faults: FaultController
    auth: AuthPolicy
    journal: Journal
    config: RuntimeConfig
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))


class _ModelEndpoint:
    """The Bedrock surface: every path outside the control routes lands here."""

    def __init__(self, state: RuntimeState) -> None:
        self.state = state
        self.pacing = Pacing.from_config(state.config)  # when responses may start; tests swap in a recording one
        self._frozen_tokenizers = 0

    def _freeze_new_tokenizers(self) -> None:
        """After a tokenizer loads, freeze the heap: its large object graph then costs the collector nothing."""
        loaded = get_tokenizer.cache_info().currsize
        if loaded != self._frozen_tokenizers:
            gc.collect()
            gc.freeze()
            self._frozen_tokenizers = loaded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One Bedrock request, as a pipeline: route → authenticate → resolve → faults → handle, then journal."""
        exchange = _Exchange(time.perf_counter(), new_request_id(), await read_body(receive), raw_path(scope))
        try:
            operation = self._route(scope, exchange)
            headers = header_pairs(scope)
            principal = self._authenticate(scope, exchange, headers)
            resolved = self._resolve(operation, exchange, headers, principal)
            faults = self._faults(operation, exchange, resolved)
            response = await self._handle(operation, exchange, headers, resolved, faults, principal.region)
            status, code = outcome(response)
        except BedrockError as error:
            status, code = error.status or 500, error.error_code
            response = error_response(status, error.error_code, error.message, exchange.request_id)
        except RecursionError:
            # JSON that parsed but nests deeper than the checks can walk: Bedrock's parsers cap nesting depth and
            # refuse such a body as malformed [I].
            status, code = 400, "ValidationException"
            response = error_response(status, code, MALFORMED, exchange.request_id)
        except Exception:  # a bug must not take the server down or leak a traceback to the client
            logger.exception("internal error in request %s", exchange.request_id)
            status, code = 500, "InternalServerException"
            response = error_response(status, code, "The server encountered an internal error.", exchange.request_id)
        self.state.journal.record(exchange.entry(status, code), exchange.faults, response)
        if self.state.config.freeze_gc:
            # Before the response goes out, so that once a client has its answer the heap is frozen (a
            # tokenizer that loads while a stream runs is frozen by the next request).
            self._freeze_new_tokenizers()
        await response(scope, receive, send)

    @staticmethod
    def _route(scope: Scope, exchange: _Exchange) -> Operation:
        """The operation the path and method name (``/model/{label}/{suffix}``)."""
        if exchange.operation is None or scope["method"] != exchange.operation.method:
            raise UnknownOperationException(ERROR_CODES["UnknownOperationException"].message)
        return exchange.operation

    def _authenticate(self, scope: Scope, exchange: _Exchange, headers: list[tuple[str, str]]) -> Principal:
        """Who sent the request, by the configured policy (SigV4 or bearer)."""
        request = AuthRequest(
            method=scope["method"],
            raw_path=exchange.raw_path,
            query_string=bytes(scope.get("query_string", b"")).decode("latin-1"),
            headers=tuple(headers),
            body=exchange.body,
        )
        return self.state.auth.check(request, self.state.clock())

    def _resolve(
        self, operation: Operation, exchange: _Exchange, headers: list[tuple[str, str]], principal: Principal
    ) -> ResolvedModel:
        """The model, after the front end's constraints on the label, the headers and the body's size."""
        check_envelope(operation.name.value, exchange.label, headers, exchange.body)
        resolved = resolve(exchange.label)
        # Bedrock serves each model (and each inference profile) from its own Regions; a SigV4 request names its
        # Region in the credential scope. Bearer tokens carry none, so they are not checked. An ARN names its Region
        # too, and must name the caller's [I].
        region = principal.region
        if (
            self.state.config.check_region
            and region
            and (not resolved.spec.served_in(region, resolved.profile) or resolved.region not in (None, region))
        ):
            raise ValidationException(INVALID_MODEL_MESSAGE)
        exchange.model_id = resolved.model_id
        return resolved

    def _faults(self, operation: Operation, exchange: _Exchange, resolved: ResolvedModel) -> Faults:
        """The fault rules that hold for this request; an error fault answers it here, the others travel with it."""
        faults = exchange.faults = self.state.faults.decide(resolved.model_id, operation.name.value)
        faults.raise_error()
        return faults

    async def _handle(
        self,
        operation: Operation,
        exchange: _Exchange,
        headers: list[tuple[str, str]],
        resolved: ResolvedModel,
        faults: Faults,
        region: str | None,
    ) -> Response:
        """The operation's handler, with everything it needs about the request."""
        config = self.state.config
        call = Call(
            request_id=exchange.request_id,
            operation=operation,
            model=resolved,
            path=exchange.raw_path,
            region=region,
            body=exchange.body,
            headers={k.lower(): v for k, v in headers},
            faults=faults,
            engine=self.state.engine,
            padding=config.padding,
            count_tokens=config.count_tokens,
            window=WindowPolicy(config.window_policy),
            started=exchange.started,
            pacing=self.pacing,
        )
        return await HANDLERS[operation.name](call)


@dataclass
class _Exchange:
    """One request on its way through the pipeline, and what the journal needs of it however it ends."""

    started: float
    request_id: str
    body: bytes
    raw_path: str
    model_id: str | None = None
    faults: Faults = NO_FAULTS

    def __post_init__(self) -> None:
        split = split_model_path(self.raw_path)
        self.operation: Operation | None = operation_for_suffix(split[1]) if split else None
        self.label = split[0] if split else self.raw_path

    def entry(self, status: int, code: str | None) -> JournalEntry:
        return JournalEntry(
            request_id=self.request_id,
            operation=self.operation.name.value if self.operation else "",
            model=self.label,
            model_id=self.model_id,
            status=status,
            error_code=code,
            raw_body=self.body,
        )


def _control_json(payload: Any, request_id: str) -> JSONBytesResponse:
    # allow_nan=False: the answer must be JSON every client can read; the journal keeps NaN bodies as text.
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return JSONBytesResponse(200, body, {"content-type": "application/json", "x-amzn-RequestId": request_id})


class _ControlPlane:
    """The control endpoints, behind the same auth as the Bedrock surface.

    ``health`` answers without credentials: liveness probes and the CLI (which names the engine of an endpoint it
    talks to) need it, and it tells nothing beyond "up" and the engine's kind. The rules and the journal (every
    prompt received) need what a model request needs: with ``--auth strict:…`` a SigV4 signature by a configured
    key (service ``bedrock``, any Region) or a configured bearer key. Refusals, unknown paths and bad rules are
    Bedrock's error responses.
    """

    def __init__(self, state: RuntimeState) -> None:
        self.state = state
        # name -> (methods, handler, whether it needs credentials)
        self.routes: dict[str, tuple[frozenset[str], Callable[[str, bytes, str], JSONBytesResponse], bool]] = {
            "health": (frozenset({"GET"}), self.health, False),
            "faults": (frozenset({"GET", "POST", "DELETE"}), self.faults, True),
            "requests": (frozenset({"GET", "DELETE"}), self.requests, True),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        request = await read_request(scope, receive)
        route = self.routes.get(request.raw_path[len(CONTROL_PREFIX) + 1 :])
        try:
            if route is None or request.method not in route[0]:
                raise UnknownOperationException(ERROR_CODES["UnknownOperationException"].message)
            _, handler, protected = route
            if protected:
                self.state.auth.check(request, self.state.clock())
            response = handler(request.method, request.body, request_id)
        except BedrockError as error:
            response = error_response(error.status or 500, error.error_code, error.message, request_id)
        await response(scope, receive, send)

    def health(self, method: str, body: bytes, request_id: str) -> JSONBytesResponse:
        return _control_json({"status": "ok", "engine": self.state.engine.name}, request_id)

    def faults(self, method: str, body: bytes, request_id: str) -> JSONBytesResponse:
        controller = self.state.faults
        if method == "POST":
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return error_response(
                    400, "ValidationException", "invalid fault rule: the body is not JSON", request_id
                )
            items = data if isinstance(data, list) else [data]
            rules: list[FaultRule] = []
            for index, item in enumerate(items):
                try:
                    rules.append(FaultRule.from_json(item))
                except ValueError as exc:
                    where = f"rule {index}: " if isinstance(data, list) else ""
                    return error_response(400, "ValidationException", f"invalid fault rule: {where}{exc}", request_id)
            controller.add_all(rules)  # all or none
        elif method == "DELETE":
            controller.reset()
        return _control_json({"faults": controller.snapshot()}, request_id)

    def requests(self, method: str, body: bytes, request_id: str) -> JSONBytesResponse:
        if method == "DELETE":
            self.state.journal.clear()
        return _control_json({"requests": [entry.to_json() for entry in self.state.journal.entries()]}, request_id)


def _control_routes(state: RuntimeState) -> list[Route]:
    # One route for the whole prefix: the control plane routes on the raw path itself, so that unknown paths and
    # methods get Bedrock's error rather than starlette's plain-text one.
    return [Route(CONTROL_PREFIX + "/{name:path}", _ControlPlane(state))]


class RuntimeApp:
    """The ASGI app: batch paths to :mod:`.batch`, control paths to starlette, the rest to the Bedrock surface."""

    def __init__(self, state: RuntimeState, control: Starlette, bedrock: _ModelEndpoint, batch: BatchEndpoint) -> None:
        self.state = state
        self.control = control
        self.bedrock = bedrock
        self.batch = batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(BATCH_PATHS):
            await self.batch(scope, receive, send)
        elif scope["type"] == "http" and not scope["path"].startswith(CONTROL_PREFIX + "/"):
            await self.bedrock(scope, receive, send)
        else:  # control endpoints, and lifespan events
            await self.control(scope, receive, send)


def create_app(
    config: RuntimeConfig | None = None,
    *,
    engine: Engine | Relay | None = None,
    faults: Iterable[FaultRule | str] = (),
    auth: AuthPolicy | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RuntimeApp:
    """Build a runtime app.

    Args:
        config: Settings; defaults to the built-in engine, lenient auth, no faults. With ``config.state_dir``
            the rules and the journal live in the SQLite store there, shared with every app that opens it (the
            workers of ``serve``); otherwise in this app's memory.
        engine: An engine object, overriding ``config.engine``.
        faults: Extra fault rules (objects or ``--fault`` specs) on top of ``config.faults``; both are added to
            the store's rules.
        auth: An auth policy object, overriding ``config.auth``.
        clock: Where "now" comes from for signature expiry (tests move it).

    Returns:
        The ASGI app; ``app.state`` is its :class:`RuntimeState`.
    """
    config = config or RuntimeConfig()
    configure_memo(config.memo_bytes, config.memo_entry_bytes)  # process-wide, like the engines' memo itself
    store = open_store(config)
    controller = FaultController(store, seed=config.fault_seed)
    controller.add_all(parse_fault_spec(item) if isinstance(item, str) else item for item in (*config.faults, *faults))
    state = RuntimeState(
        engine=engine or build_engine(config.engine, config.models),
        faults=controller,
        auth=auth or parse_auth_spec(config.auth),
        journal=Journal(store, config.journal_bytes),
        config=config,
    )
    if clock is not None:
        state.clock = clock
    # The control endpoints are an ordinary starlette app; Bedrock's surface bypasses its routing and middleware
    # (they cost more per request than the rest of a lenient request path) and routes on the raw path itself.
    control = Starlette(routes=_control_routes(state), lifespan=_closing_engine(state.engine))
    return RuntimeApp(state, control, _ModelEndpoint(state), batch_endpoint(state))


def _closing_engine(engine: Engine | Relay) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A server that runs the ASGI lifespan (serve's workers) frees the engine's model when it shuts down."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        close_engine(engine)

    return lifespan


def app_from_env() -> RuntimeApp:
    """The factory server workers call: settings come from ``MISTRAL_BEDROCK_RUNTIME``."""
    return create_app(RuntimeConfig.from_env())
