"""moto in server mode, with what the local stack needs from it:

- every AWS call a function makes is authorized against its own role (``local_stack.authz``, a WSGI
  layer in front of moto); Step Functions tasks are signed with the state machine's role;
- Step Functions really execute (``execute_state_machine``);
- DynamoDB requests are serialised: moto's conditional writes are not atomic under concurrent
  threads, and payments rely on them;
- Lambda invokes (Step Functions tasks, S3 notifications) and EventBridge rule targets that are
  Lambda functions are routed to our own workers, once the function's resource policy lets S3 or
  EventBridge invoke it. The hooks replace moto internals, which is why moto is pinned and a test
  breaks when they stop working.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from local_stack.authz import Denied, Enforcer, Principals
from local_stack.describe import Describer

# (function name, event) -> (payload text, errored, logs)
LambdaDispatcher = Callable[[str, Any], tuple[str, bool, str]]
# (function name, event): fire and forget
AsyncDispatcher = Callable[[str, Any], Any]
# (function ARN, service principal, source ARN) -> may that service invoke the function from there
InvokeGuard = Callable[[str, str, str], bool]

DYNAMODB_LOCK = threading.Lock()
_TARGETS_LOCK = threading.Lock()


class MotoEmulator:
    """moto's backends behind one werkzeug server, with the IAM enforcer in front of them.

    The server is built here (moto's own ``ThreadedMotoServer`` builds the same app) so the enforcer
    can sit between the socket and moto as a plain WSGI layer, not as a patch of moto's internals.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        principals: Principals | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        on_denied: Denied | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.principals = principals if principals is not None else Principals()
        self.region, self.account = region, account
        self._on_denied = on_denied or (lambda *_: None)
        self._server: Any = None
        self.enforcer: Enforcer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        import logging

        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per emulated AWS call
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        _serialize_dynamodb()
        one_snapshot_per_transaction()
        memoised_update_expressions()
        faster_queries()
        memoised_conditions()
        linear_item_sizes()
        plain_dynamodb_responses()
        enable_sync_executions()
        sign_state_machine_calls(self.principals.credentials)
        describer = Describer(self.region, self.account, MotoLookup(self.account, self.region))
        self.enforcer = Enforcer(
            DomainDispatcherApplication(create_backend_app), self.principals, describer, self._on_denied
        )
        self._server = make_server(self.host, self.port, self.enforcer, True, request_handler=MotoRequestHandler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="moto").start()
        self.host, self.port = self._server.server_address[:2]
        os.environ["MOTO_PORT"] = str(self.port)  # moto's own Step Functions tasks call back here

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class MotoLookup:
    """What the authorizer needs to know about resources, read from moto's backends."""

    def __init__(self, account: str, region: str) -> None:
        self.account, self.region = account, region

    def hash_key(self, table_name: str) -> str | None:
        from moto.dynamodb.models import dynamodb_backends

        try:
            table = dynamodb_backends[self.account][self.region].get_table(table_name)
        except Exception:  # noqa: BLE001 - an unknown table: moto answers ResourceNotFound itself
            return None
        return str(table.hash_key_attr)

    def secret_arn(self, secret_id: str) -> str | None:
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[self.account][self.region]
        try:
            return str(backend.describe_secret(secret_id).arn)
        except Exception:  # noqa: BLE001 - unknown secret: refused as undescribable
            return None

    def kms_key_arn(self, key_id: str) -> str | None:
        from moto.kms.models import kms_backends

        backend = kms_backends[self.account][self.region]
        try:
            return str(backend.describe_key(backend.get_key_id(key_id)).arn)
        except Exception:  # noqa: BLE001 - unknown key: refused as undescribable
            return None

    def kms_key_of_ciphertext(self, blob_b64: str) -> str | None:
        import base64

        from moto.kms.utils import _deserialize_ciphertext_blob

        try:
            return str(_deserialize_ciphertext_blob(base64.b64decode(blob_b64)).key_id)
        except Exception:  # noqa: BLE001 - not one of moto's ciphertexts
            return None


_ORIGINALS: dict[str, Any] = {}


def _serialize_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if "dynamodb" in _ORIGINALS:
        return
    original = _ORIGINALS["dynamodb"] = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def enable_sync_executions(timeout_seconds: float = 300.0) -> None:
    """StartSyncExecution for Express state machines: moto's interpreter runs the definition; this
    waits for it and answers with the sync output (moto's response layer lacks the action)."""
    import time
    import uuid

    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def start_sync_execution(self: Any) -> Any:
        arn = self._get_param("stateMachineArn")
        name = self._get_param("name") or str(uuid.uuid4())
        execution_input = self._get_param("input", if_none="{}")
        execution = self.stepfunction_backend.start_execution(arn, name, execution_input)
        deadline = time.monotonic() + timeout_seconds
        while str(getattr(execution.exec_status, "value", execution.exec_status)) == "RUNNING":
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)
        status = str(getattr(execution.exec_status, "value", execution.exec_status))
        response: dict[str, Any] = {
            "executionArn": execution.exec_arn,
            "stateMachineArn": arn,
            "name": name,
            "startDate": execution.start_date,
            "stopDate": execution.stop_date or execution.start_date,
            "status": {"RUNNING": "TIMED_OUT", "ABORTED": "FAILED"}.get(status, status),
            "input": execution_input,
            "billingDetails": {"billedDurationInMilliseconds": 0, "billedMemoryUsedInMB": 64},
        }
        if execution.output is not None:
            response["output"] = execution.output if isinstance(execution.output, str) else json.dumps(execution.output)
        if execution.error is not None:
            response["error"] = execution.error
        if execution.cause is not None:
            response["cause"] = execution.cause
        return ActionResult(response)

    StepFunctionResponse.start_sync_execution = start_sync_execution  # type: ignore[attr-defined]


def route_lambda_invokes(dispatch: LambdaDispatcher) -> None:
    """moto's ``LambdaFunction._invoke_lambda`` (Docker) -> our worker of that function."""
    from moto.awslambda.models import LambdaFunction

    _ORIGINALS.setdefault("lambda", LambdaFunction._invoke_lambda)

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        payload = event if event is not None else {}
        if isinstance(payload, str | bytes):
            payload = json.loads(payload or "{}")
        return dispatch(self.function_name, payload)

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]


def one_snapshot_per_transaction() -> None:
    """moto's TransactWriteItems deep-copies every touched *table* (once per action) for its rollback:
    a call costs as much as the table is large, so an import slows down as the ledger fills. Here those
    copies are the live table (moto's rollback then re-assigns the table to itself), and before the
    call the prior state of exactly the items the actions name is kept (a copy of each, or "absent",
    see ``_ItemsRollback``); if the call raises, for any reason, those items are put back. A rollback
    costs O(actions), not O(table). Calls are serialised by the DynamoDB lock; the name (kept for the
    benchmarks that install it) dates from the per-table snapshot this replaces."""
    import copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    if "transact" in _ORIGINALS:
        return
    original = _ORIGINALS["transact"] = models.DynamoDBBackend.transact_write_items

    class _Copy:  # ``copy`` as moto's DynamoDB backend module sees it
        thread: int | None = None  # the thread inside transact_write_items: its table copies are the table

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        def deepcopy(self, x: Any, memo: Any = None) -> Any:
            if self.thread == threading.get_ident() and isinstance(x, Table):
                return x
            return copy.deepcopy(x, memo)

    shim = _Copy()

    def transact_write_items(self: Any, transact_items: Any) -> Any:
        rollback = _ItemsRollback(self, transact_items)
        shim.thread = threading.get_ident()
        try:
            return original(self, transact_items)
        except BaseException:
            rollback.restore()
            raise
        finally:
            shim.thread = None

    models.copy = shim  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def memoised_update_expressions(size: int = 256) -> None:
    """moto parses an UpdateExpression twice per call (the request's checks, then the backend) and
    validates it with ten walks of the tree, the first three of which (clause counts, overlapping
    paths, key attributes) depend only on the tree, the names and the table's key attributes and
    change nothing: ~40 ms per Update for the import's 26-attribute SET, O(n²) in its length.
    Parsing is memoised by the expression's text (the tree is only read: moto's validator deep-copies
    it before any walk, the request handler only searches it), and those three checks are skipped
    once they passed for the same tree, names and key attributes. Errors are never memoised."""
    import functools
    from collections import OrderedDict

    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    if "update_expressions" in _ORIGINALS:
        return
    _ORIGINALS["update_expressions"] = (
        UpdateExpressionParser.__dict__["make"],
        validators.UpdateExpressionValidator.__dict__.get("__init__"),
        validators.UpdateExpressionValidator.__dict__.get("validate"),
    )
    make = UpdateExpressionParser.make
    parse = functools.lru_cache(maxsize=size)(make)
    pure = (
        validators.ActionCountValidator,
        validators.OverlappingPathsValidator,
        validators.UpdateHashRangeKeyValidator,
    )
    passed: OrderedDict[tuple[Any, ...], None] = OrderedDict()  # keys hold their tree: no id is reused
    original_init = validators.UpdateExpressionValidator.__init__

    def make_memoised(cls: Any, expression_str: Any) -> Any:
        if cls is UpdateExpressionParser and isinstance(expression_str, str):
            return parse(expression_str)
        return make.__func__(cls, expression_str)

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, expression, *args, **kwargs)
        self.parsed_tree = expression  # the tree moto copied: a memoised one is shared by every call

    def validate(self: Any) -> Any:
        key = _pure_checks_key(self, pure)
        skip = key is not None and key in passed
        n = self.node_to_validate
        for i, processor in enumerate(self.processors):
            if skip and i < len(pure):
                continue
            n = processor.traverse(n)
            if key is not None and not skip and i == len(pure) - 1:
                passed[key] = None
                if len(passed) > size:
                    passed.popitem(last=False)
        return n

    UpdateExpressionParser.make = classmethod(make_memoised)
    validators.UpdateExpressionValidator.__init__ = __init__  # type: ignore[method-assign]
    validators.UpdateExpressionValidator.validate = validate  # type: ignore[method-assign]


def _pure_checks_key(validator: Any, pure: tuple[type, ...]) -> tuple[Any, ...] | None:
    """What the validator's first checks depend on, if they are the ``pure`` ones and it is hashable."""
    if tuple(type(p) for p in validator.processors[: len(pure)]) != pure:
        return None  # moto changed its validation: run it all
    names = validator.expression_attribute_names
    try:
        key = (
            validator.parsed_tree,
            None if names is None else tuple(sorted(names.items())),
            tuple(validator.table.table_key_attrs),
        )
        hash(key)
    except Exception:  # noqa: BLE001 - odd names: not memoised, moto validates as always
        return None
    return key


def faster_queries(size: int = 64) -> None:
    """moto answers every Query by sorting the whole table (``Table.all_items``); for an index it then
    filters that, sorts the partition again and walks from its first item to the ExclusiveStartKey:
    every page of a paginated index query costs O(table · log table), seconds on a 100,000-item
    ledger. Here moto's own ``Table.query`` still answers every page, but is given only the items it
    can need (through ``all_items``): a table query, its partition's; an index query, its partition,
    as moto's own filter selects it, sorted once and kept until anything writes to DynamoDB, from
    the ExclusiveStartKey (found by bisection with moto's own comparison) to Limit + 1 items, or all
    of the rest when moto did not stop within those. The order is moto's: the sort compares the key
    attributes' plain values, which is moto's comparison when each attribute has one type (S, N or
    B) throughout (otherwise, or for anything unusual, moto's query runs as is). See
    ``_dynamodb_changed`` for what counts as a write.

    And a projection (``Item.project``, every Query/Scan/GetItem with a ProjectionExpression)
    converts the whole item to plain JSON once per projected path; for top-level names (the
    common case) once per item is the same result."""
    import bisect
    import functools
    import inspect

    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, serializer
    from moto.dynamodb.models.table import Table

    if "query" in _ORIGINALS:
        return
    original_query = _ORIGINALS["query"] = Table.query
    original_all_items = Table.all_items
    original_sorted_items = Table.sorted_items
    original_project = Item.project
    local = threading.local()  # per thread: the items moto is given, the table whose partition is taken
    cache: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # (table, ...) -> (table, items, hash attrs, range attrs)
    cached_at = [-1]  # the write count the cache is valid for

    class _Sorted(Exception):  # not an error: moto's sorted partition, taken before paging
        def __init__(self, items: list[Any] | None, hash_attrs: list[str], range_attrs: list[str | None]) -> None:
            self.items, self.hash_attrs, self.range_attrs = items, hash_attrs, range_attrs

    def all_items(self: Any) -> list[Any]:
        given = getattr(local, "items", None)
        if given is not None and given[0] is self:
            return list(given[1])
        return original_all_items(self)

    def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]) -> Any:
        sorting: Any = getattr(local, "sorting", None)
        if sorting is self:
            attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
            raise _Sorted(
                _plain_sorted(items, lambda item: [item.attrs.get(a) for a in attrs]), hash_key_attrs, range_key_attrs
            )
        return original_sorted_items(self, hash_key_attrs, range_key_attrs, items)

    def partition(
        self: Any, call: Callable[[], Any], index_name: Any, hash_key: Any, hash_conds: Any, range_conds: Any
    ) -> Any:
        if cached_at[0] != _DYNAMODB_WRITES[0]:
            cache.clear()
            cached_at[0] = _DYNAMODB_WRITES[0]
        try:
            if index_name:
                equalities = tuple((n, c, tuple(v)) for n, c, v in (range_conds or [])[:-1])
                key: tuple[Any, ...] = (id(self), index_name, tuple(hash_conds or ()), equalities)
            else:
                key = (id(self), None, hash_key)
            hash(key)
        except Exception:  # noqa: BLE001 - unhashable or odd conditions: moto answers as is
            return None
        hit = cache.get(key)
        if hit is not None and hit[0] is self:
            return hit[1:]
        writes = _DYNAMODB_WRITES[0]
        if index_name:
            local.items, local.sorting = (self, _unsorted_items(self)), self
            try:
                call()
                return None  # moto answered without sorting an index partition: not ours to page
            except _Sorted as taken:
                found = (taken.items, taken.hash_attrs, taken.range_attrs)
            except Exception:  # noqa: BLE001 - moto refuses the query: it will again, as is
                return None
            finally:
                local.items = local.sorting = None
        elif hash_key is None:
            return None
        else:
            bucket = self.items.get(hash_key)
            items = [] if bucket is None else list(bucket.values()) if self.range_key_attr else [bucket]
            plain = items if len(items) < 2 else _plain_sorted(items, lambda item: [item.range_key])
            found = (plain, [self.hash_key_attr], [self.range_key_attr])
        if found[0] is None:
            return None
        if writes == _DYNAMODB_WRITES[0]:
            if len(cache) >= size:
                cache.clear()
            cache[key] = (self, *found)
        return found

    def query(
        self: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        projection_expressions: Any,
        index_name: Any = None,
        consistent_read: Any = False,
        filter_expression: Any = None,
        hash_key_conditions: Any = None,
        range_key_conditions: Any = None,
        **filter_kwargs: Any,
    ) -> Any:
        call = functools.partial(
            original_query,
            self,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )
        nested = getattr(local, "items", None) is not None or getattr(local, "sorting", None) is not None
        if filter_kwargs or nested or not (scan_index_forward is True or scan_index_forward is False):
            return call()
        found = partition(self, call, index_name, hash_key, hash_key_conditions, range_key_conditions)
        if found is None:
            return call()
        ascending, hash_attrs, range_attrs = found
        ordered = ascending if scan_index_forward else ascending[::-1]
        start = 0
        if exclusive_start_key is not None:
            attrs = self._generate_attr_to_sort_by(hash_attrs, range_attrs)
            if not isinstance(exclusive_start_key, dict) or any(a not in exclusive_start_key for a in attrs):
                return call()
            try:
                start_types = [DynamoType(exclusive_start_key[a]).type for a in attrs]
            except Exception:  # noqa: BLE001 - malformed: moto answers (or refuses) as is
                return call()
            if ordered and start_types != [ordered[0].attrs[a].type for a in attrs]:
                return call()  # compared across types, moto's walk may fail or not: let it walk
            before = functools.partial(
                self._item_comes_before_dct,
                dct=exclusive_start_key,
                hash_key_attrs=hash_attrs,
                range_key_attrs=range_attrs,
                scan_index_forward=scan_index_forward,
            )
            start = bisect.bisect_left(ordered, True, key=lambda item: not before(item))

        def page(given: list[Any]) -> Any:
            local.items = (self, given if scan_index_forward else given[::-1])  # ascending, as moto sorts
            try:
                return call()
            finally:
                local.items = None

        whole = not isinstance(limit, int) or limit <= 0
        stop = len(ordered) if whole else min(len(ordered), start + limit + 1)
        answer = page(ordered[start:stop])
        if answer[2] is None and stop < len(ordered):
            answer = page(ordered[start:])  # moto did not stop within them: it might have with more
        return answer

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        names = [path[0] for path in projection_expressions if len(path) == 1 and "[" not in path[0]]
        if len(names) != len(projection_expressions) or len(set(names)) != len(names):
            return original_project(self, projection_expressions)  # nested, indexed or repeated paths
        whole = self.to_regular_json()  # what moto's find_nested_key picks each top-level name from
        picked = {name: whole[name] for name in names if name in whole}
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=serializer.serialize(picked)["M"])

    def changes(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            _dynamodb_changed()
            try:
                return method(*args, **kwargs)
            finally:
                _dynamodb_changed()

        return counted

    for name, method in list(vars(models.DynamoDBBackend).items()):
        if inspect.isfunction(method) and not name.startswith("_") and name not in _READ_ONLY_BACKEND:
            setattr(models.DynamoDBBackend, name, changes(method))
    Table.put_item = changes(Table.put_item)  # type: ignore[method-assign]
    Table.delete_item = changes(Table.delete_item)  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Item.project = project  # type: ignore[method-assign]


def memoised_conditions(size: int = 256) -> None:
    """moto parses a ConditionExpression up to three times per action of a TransactWriteItems (the
    request's checks, the transaction, the table's put) and ``ConditionExpressionParser.parse`` is
    slow (a regex lexer, then a dozen passes): ~1 ms for ``attribute_not_exists(PK) OR deudaSK = :sk``.
    The tree it returns embeds the request's values (each ``:v`` as an ``AttributeValue`` holding
    the request's own value) and names (expanded into each path), so it cannot be shared as is. But
    the parse depends on the values only through which placeholders exist and the type of each
    (``AttributeValue`` takes the value's only key as its type; BETWEEN refuses NULL bounds): the
    contents are carried, never read. So a tree is parsed once per (expression, names, placeholder ->
    type), with a unique marker as each value's contents, and each call gets a deep copy of it with
    each marker replaced by that call's own value (moto's parse also keeps a reference, no copy).
    The tree is only read when evaluated (``expr``), and each call has its own copy anyway. Only
    plain requests are memoised (dicts of str names, values of one str type key each); a parse that
    fails is moto's own, every time (nothing is cached for it)."""
    import copy

    from moto.dynamodb.comparisons import ConditionExpressionParser

    if "conditions" in _ORIGINALS:
        return
    original = _ORIGINALS["conditions"] = ConditionExpressionParser.parse
    # (expression, names, placeholder types) -> (tree with markers, marker id -> (placeholder, type), names found, values found)
    memo: dict[tuple[Any, ...], tuple[Any, dict[int, tuple[str, str]], list[str], list[str], list[Any]]] = {}

    class _Marker:  # a value's contents in a memoised tree: replaced by the caller's when copied
        __slots__ = ("name",)

        def __init__(self, name: str) -> None:
            self.name = name

    def parse(self: Any) -> Any:
        key = _condition_key(self) if type(self) is ConditionExpressionParser else None
        if key is None:
            return original(self)
        found = memo.get(key)
        if found is None:
            tree = original(self)  # moto's answer (or its error) for this call
            template = _condition_template(self, original, _Marker)
            if template is not None:
                if len(memo) >= size:
                    memo.clear()
                memo[key] = template
            return tree
        marked, markers, names_found, values_found, _ = found
        values = self.expression_attribute_values
        bound = {mid: values[name][kind] for mid, (name, kind) in markers.items()}
        self.expr_attr_names_found.extend(names_found)
        self.expr_attr_values_found.extend(values_found)
        return copy.deepcopy(marked, bound)

    ConditionExpressionParser.parse = parse  # type: ignore[method-assign]


def _condition_key(parser: Any) -> tuple[Any, ...] | None:
    """What a ConditionExpression's parse depends on, if the request is a plain one (else None)."""
    expression, names, values = (
        parser.condition_expression,
        parser.expression_attribute_names,
        parser.expression_attribute_values,
    )
    if type(expression) is not str or not expression:
        return None
    if names is not None and (
        type(names) is not dict or any(type(k) is not str or type(v) is not str for k, v in names.items())
    ):
        return None
    if values is not None:
        if type(values) is not dict:
            return None
        for k, v in values.items():
            if type(k) is not str or type(v) is not dict or len(v) != 1 or type(next(iter(v))) is not str:
                return None
    return (
        expression,
        None if names is None else tuple(sorted(names.items())),
        None if values is None else tuple(sorted((k, next(iter(v))) for k, v in values.items())),
    )


def _condition_template(parser: Any, parse: Callable[[Any], Any], marker: type) -> Any:
    """The parser's expression parsed again with a marker as each value's contents: the tree, the
    markers (id -> placeholder, type) and what the parse found; None if that parse does not go as
    the real one did (then nothing is memoised)."""
    values = parser.expression_attribute_values
    markers: dict[int, tuple[str, str]] = {}
    marked_values = None
    if values is not None:
        marked_values = {}
        for name, value in values.items():
            ((kind, _),) = value.items()
            m = marker(name)
            markers[id(m)] = (name, kind)
            marked_values[name] = {kind: m}
    twin = type(parser)(parser.condition_expression, parser.expression_attribute_names, marked_values)
    try:
        tree = parse(twin)
    except Exception:  # noqa: BLE001 - not as moto's own parse went: not memoised
        return None
    if (
        twin.expr_attr_names_found != parser.expr_attr_names_found
        or twin.expr_attr_values_found != parser.expr_attr_values_found
    ):
        return None
    keep = list(marked_values.values()) if marked_values else []  # markers alive with the tree: ids are keys
    return tree, markers, list(twin.expr_attr_names_found), list(twin.expr_attr_values_found), keep


def linear_item_sizes() -> None:
    """moto builds an ``Item`` attribute by attribute into a ``LimitedSizeDict``, whose every insert
    sums the sizes of all the attributes already in (to refuse an item over 405,000 bytes): O(n²)
    size computations for an n-attribute item, on every Put and every projected Query item. Sizes
    never change while the item is built and are never negative, so here a running total makes the
    same check at the same attribute (``ItemSizeTooLarge`` raised exactly where moto raises it), once
    per attribute. Items whose attribute names are not all plain ``str`` are built by moto as is."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    if "item_sizes" in _ORIGINALS:
        return
    original = _ORIGINALS["item_sizes"] = Item.__init__
    limit = 405000  # moto's, in LimitedSizeDict.__setitem__

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        if type(self) is not Item or type(attrs) is not dict or any(type(k) is not str for k in attrs):
            return original(self, hash_key, range_key, attrs)
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = built = LimitedSizeDict()
        total = 0
        for key, value in attrs.items():
            typed = DynamoType(value)
            added = bytesize(key) + typed.size()
            if total + added > limit:
                raise ItemSizeTooLarge
            total += added
            dict.__setitem__(built, key, typed)
        return None

    Item.__init__ = __init__  # type: ignore[method-assign]


def plain_dynamodb_responses() -> None:
    """moto answers every DynamoDB call through its generic response serializer, which walks the
    operation's output shape with an attribute picker per member of every attribute value (~60% of
    a 1,000-item Query page). For Query and GetItem results made only of what it would copy
    unchanged (counts, and attribute values of types S, N, SS, NS, M, L, NULL and BOOL holding plain
    str/bool/list/dict), the serialized body is built here directly, members in the output shape's
    order, and handed to moto's own serializer to encode (the same bytes, the same headers).
    Anything else (binary values, consumed capacity, errors, pretty printing, transformers) goes
    through moto's serializer as is. moto's ``dynamo_to_dict`` still runs first (in DynamoResult)."""
    from moto import settings
    from moto.core.responses import ActionContext
    from moto.dynamodb.responses import DynamoResult

    if "responses" in _ORIGINALS:
        return
    original = _ORIGINALS["responses"] = DynamoResult.execute_result

    def execute_result(self: Any, context: ActionContext) -> Any:
        operation = context.operation_model
        if (
            getattr(operation, "name", None) in _PLAIN_OPERATIONS
            and not settings.PRETTIFY_RESPONSES
            and not getattr(context.response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None)
            and not isinstance(self.result, Exception)
            and not operation.has_event_stream_output
        ):
            body = _plain_output(self.result, operation.output_shape)
            if body is not None:
                from moto.core.serialize import XFormedAttributePicker

                serializer = context.serializer_class(
                    operation_model=operation, pretty_print=False, value_picker=XFormedAttributePicker()
                )
                response = serializer._create_default_response()
                response = serializer._serialized_result_to_response(
                    response, self.result, operation.output_shape, body
                )
                return response["status_code"], response["headers"], response["body"]
        return original(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


# TransactWriteItems answers a constant ({"ConsumedCapacity": [], "ItemCollectionMetrics": {}}, not a
# DynamoResult): nothing to gain there
_PLAIN_OPERATIONS = frozenset({"Query", "GetItem"})
# output member -> its kind, as moto's serializer handles it (integer: int(); map: attribute name -> value)
_PLAIN_MEMBERS = {"Count": "int", "ScannedCount": "int", "Items": "maps", "Item": "map", "LastEvaluatedKey": "map"}


class _NotPlain(Exception):
    pass


def _plain_output(result: Any, shape: Any) -> dict[str, Any] | None:
    """The body moto's JSON serializer makes of this result, if it is a plain one (else None)."""
    if type(result) is not dict or shape is None or any(k not in _PLAIN_MEMBERS for k in result):
        return None
    members = list(getattr(shape, "members", {}))
    if any(k not in members for k in result):
        return None
    body: dict[str, Any] = {}
    try:
        for name in members:  # the serializer's order: the shape's
            value = result.get(name)
            if value is None:
                continue
            kind = _PLAIN_MEMBERS[name]
            if kind == "int":
                if type(value) is not int:
                    return None
                body[name] = value
            elif kind == "map":
                body[name] = _plain_map(value)
            else:
                if type(value) is not list:
                    return None
                body[name] = [_plain_map(item) for item in value]
    except _NotPlain:
        return None
    return body


def _plain_map(attrs: Any) -> dict[str, Any]:
    if type(attrs) is not dict:
        raise _NotPlain
    plain = {}
    for name, value in attrs.items():
        if type(name) is not str:
            raise _NotPlain
        plain[name] = _plain_value(value)
    return plain


def _plain_value(value: Any) -> dict[str, Any]:
    """An attribute value as moto's serializer writes it (its string members through str(): only str here)."""
    if type(value) is not dict or len(value) != 1:
        raise _NotPlain
    ((kind, x),) = value.items()
    if kind == "S" or kind == "N":
        if type(x) is not str:
            raise _NotPlain
        return {kind: x}
    if kind == "SS" or kind == "NS":
        if type(x) is not list or any(type(v) is not str for v in x):
            raise _NotPlain
        return {kind: list(x)}
    if kind == "M":
        return {kind: _plain_map(x)}
    if kind == "L":
        if type(x) is not list:
            raise _NotPlain
        return {kind: [_plain_value(v) for v in x]}
    if (kind == "NULL" or kind == "BOOL") and type(x) is bool:
        return {kind: x}
    raise _NotPlain


# DynamoDB backend methods that change nothing; every other one counts as a write (faster_queries)
_READ_ONLY_BACKEND = frozenset(
    {
        "batch_get_item",
        "describe_backup",
        "describe_continuous_backups",
        "describe_endpoints",
        "describe_export",
        "describe_import",
        "describe_table",
        "describe_time_to_live",
        "get_backup",
        "get_item",
        "get_keys_value",
        "get_resource_policy",
        "get_schema",
        "get_table",
        "get_table_keys_name",
        "iter_tagged_resources",
        "list_backups",
        "list_exports",
        "list_tables",
        "list_tags_of_resource",
        "query",
        "scan",
        "transact_get_items",
    }
)
_DYNAMODB_WRITES = [0]


def _dynamodb_changed() -> None:
    """Counted before and after every backend call that may write (any not in ``_READ_ONLY_BACKEND``),
    every ``Table.put_item``/``delete_item`` (moto's own imports call them directly) and every
    transaction rollback: a partition kept by ``faster_queries`` is only used while this stays put."""
    _DYNAMODB_WRITES[0] += 1


def _unsorted_items(table: Any) -> list[Any]:
    """``Table.all_items`` without its sort (the same items)."""
    if table.range_key_attr:
        return [item for bucket in table.items.values() for item in bucket.values()]
    return list(table.items.values())


def _plain_sorted(items: list[Any], values: Callable[[Any], list[Any]]) -> list[Any] | None:
    """The items in the order moto's sort by those DynamoType values gives, or None if a value is
    missing or an attribute is not of one key type throughout. With one type per position,
    DynamoType's == and < are == and < of the plain (cast) values, and the order is total (the
    values end with the item's primary key), so a sort of the plain values is moto's sort."""
    types: list[Any] | None = None
    keys: list[tuple[Any, ...]] = []
    for item in items:
        typed = values(item)
        if types is None:
            types = [getattr(v, "type", None) for v in typed]
            if not all(t in ("S", "N", "B") for t in types):
                return None
        if any(v is None or v.type != t for v, t in zip(typed, types, strict=True)):
            return None
        keys.append(tuple(v.cast_value for v in typed))
    try:
        order = sorted(range(len(items)), key=keys.__getitem__)
    except TypeError:  # B values both str and bytes: moto's sort fails too, let it
        return None
    return [items[i] for i in order]


class _ItemsRollback:
    """The state, before a TransactWriteItems, of the items its actions name, and how to put it back.

    moto keeps an item in ``Table.items`` (hash key -> item, or hash key -> {range key -> item}) and
    nothing else per item: its indexes are scans of that dict, sizes and counts are computed on
    demand. So per touched table this keeps: each named item (a deep copy: an Update mutates the item
    in place) or "absent"; the hash keys that had no range bucket yet (moto's lookups create empty
    ones); where a Delete removes an existing item, the order of its dict (a re-inserted key would go
    last); and the length of the table's stream shard, whose records the call appends."""

    def __init__(self, backend: Any, transact_items: Any) -> None:
        import copy

        from moto.dynamodb.models.dynamo_type import DynamoType

        self._tables: dict[int, _TableBefore] = {}
        for action in transact_items if isinstance(transact_items, list) else ():
            if not isinstance(action, dict) or len(action) != 1:
                continue  # moto refuses it before it writes anything
            ((kind, op),) = action.items()
            try:
                table = backend.get_table(op["TableName"])
                attrs = op["Item"] if kind == "Put" else op["Key"]
                hash_key = DynamoType(attrs[table.hash_key_attr])
                range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            except Exception:  # noqa: BLE001 - malformed, or an unknown table: moto writes nothing for it
                continue
            before = self._tables.get(id(table))
            if before is None:
                before = self._tables[id(table)] = _TableBefore(table)
            if range_key is None:
                container, key = table.items, hash_key
            elif (container := table.items.get(hash_key)) is None:
                before.absent_buckets.add(hash_key)
                continue
            else:
                key = range_key
            if (hash_key, range_key) in before.items:
                continue  # the first action's view is the state before the call
            current = container.get(key)
            before.items[(hash_key, range_key)] = None if current is None else copy.deepcopy(current)
            where = None if range_key is None else hash_key  # the dict it sits in: None is the table's top level
            if kind == "Delete" and current is not None and where not in before.orders:
                before.orders[where] = list(container)

    def restore(self) -> None:
        _dynamodb_changed()
        for before in self._tables.values():
            before.restore()
        _dynamodb_changed()


class _TableBefore:
    def __init__(self, table: Any) -> None:
        self.table = table
        self.items: dict[tuple[Any, Any], Any] = {}  # (hash, range or None) -> a copy of the item, or None
        self.absent_buckets: set[Any] = set()
        self.orders: dict[Any, list[Any]] = {}  # hash key (None: the table's top level) -> its keys, in order
        shard = table.stream_shard
        self.stream = (shard, shard.items, len(shard.items)) if shard is not None else None

    def restore(self) -> None:
        items = self.table.items
        for (hash_key, range_key), item in self.items.items():
            container, key = (items, hash_key) if range_key is None else (items[hash_key], range_key)
            if item is None:
                container.pop(key, None)
            else:
                container[key] = item
        for hash_key in self.absent_buckets:
            items.pop(hash_key, None)
        for hash_key, order in self.orders.items():
            container = items if hash_key is None else items[hash_key]
            if len(container) == len(order) and all(k in container for k in order):
                entries = [(k, container[k]) for k in order]
                container.clear()
                container.update(entries)
        if self.stream is not None:
            shard, records, count = self.stream
            del records[count:]
            shard.items = records


_S3_HELD = threading.local()  # the S3 events held while this thread answers an S3 request


def async_s3_notifications(guard: InvokeGuard, deliver: Callable[[str, Any], Any] | None = None) -> None:
    """S3 invokes notification targets asynchronously; moto does it inside the PUT request, which
    would hold an uploader's connection for the whole import. Deliver from a thread instead, and only
    if the function's resource policy lets s3.amazonaws.com invoke it for this bucket. ``deliver``
    (function ARN, event) runs Lambda's asynchronous invocation, its retries and on-failure destination
    included (``local_stack.async_invoke``); without it, moto's own single invoke. Event records carry
    the object's ``versionId`` and a ``sequencer``, as S3's do (``local_stack.s3_eventos``).

    S3 notifies once the object is stored whole; moto notifies from inside its ``put_object``, before
    the request sets the object's user metadata (and ACL). Delivered at once from a thread, the
    function could read the new version without its metadata (our reports' marker: a report would be
    imported as a file). So the events a request raises are held until moto has answered it."""
    import functools

    from moto.s3 import notifications
    from moto.s3.responses import S3Response

    from local_stack import s3_eventos

    s3_eventos.install()
    original = _ORIGINALS.setdefault("s3", notifications._invoke_awslambda)
    local = _S3_HELD

    def send(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        records = (event_body or {}).get("Records") or [{}]
        bucket_arn = records[0].get("s3", {}).get("bucket", {}).get("arn", "")
        if not guard(fn_arn, "s3.amazonaws.com", bucket_arn):
            return
        if deliver is not None:
            deliver(fn_arn, event_body)
        else:
            threading.Thread(target=original, args=(account_id, event_body, fn_arn, region_name), daemon=True).start()

    def _invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        held = getattr(local, "held", None)
        if held is not None:
            held.append(functools.partial(send, account_id, event_body, fn_arn, region_name))
        else:
            send(account_id, event_body, fn_arn, region_name)

    def after_answer(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def answered(*args: Any, **kwargs: Any) -> Any:
            if getattr(local, "held", None) is not None:
                return method(*args, **kwargs)
            local.held = []
            try:
                return method(*args, **kwargs)
            finally:
                held, local.held = local.held, None
                for delivery in held:
                    delivery()

        return answered

    notifications._invoke_awslambda = _invoke_awslambda
    for name in ("key_response", "bucket_response"):
        if not getattr(getattr(S3Response, name), "_local_stack_after_answer", False):
            wrapped = after_answer(getattr(S3Response, name))
            wrapped._local_stack_after_answer = True  # type: ignore[attr-defined]
            setattr(S3Response, name, wrapped)


def route_rule_targets(
    dispatch: AsyncDispatcher, function_name_of: Callable[[str], str | None], guard: InvokeGuard
) -> None:
    """EventBridge rules with Lambda targets (moto matches the pattern, we deliver the event if the
    function's resource policy lets events.amazonaws.com invoke it for this rule)."""
    from moto.events.models import Rule
    from moto.utilities.arns import parse_arn

    _ORIGINALS.setdefault("events", Rule.send_to_targets)
    original = _ORIGINALS["events"]

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        lambdas = [t for t in self.targets if parse_arn(t["Arn"]).service == "lambda"]
        if lambdas and self.event_pattern.matches_event(original_event):
            for target in lambdas:
                name = function_name_of(target["Arn"])
                if name and guard(target["Arn"], "events.amazonaws.com", self.arn):
                    event = json.loads(target["Input"]) if target.get("Input") else original_event
                    threading.Thread(target=dispatch, args=(name, event), daemon=True).start()
        others = [t for t in self.targets if t not in lambdas]
        if others:  # moto delivers the rest itself (it raises NotImplementedError on Lambda targets)
            with _TARGETS_LOCK:
                saved, self.targets = self.targets, others
                try:
                    original(self, original_event, transform_input)
                finally:
                    self.targets = saved

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def sign_state_machine_calls(credentials_for: Callable[[str], dict[str, str] | None]) -> None:
    """moto's Step Functions interpreter calls Lambda (and SDK integrations) through the emulator with
    fixed dummy keys. Sign them with the state machine's own role instead, so its task invocations are
    authorized against that role, as in AWS. Clients are kept per (service, region, role)."""
    import boto3
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client

    if "sfn" in _ORIGINALS:
        return
    original = _ORIGINALS["sfn"] = boto_client.boto_client_for
    clients: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        role_arn = getattr(state_credentials, "role_arn", None)
        credentials = credentials_for(role_arn) if role_arn else None
        if credentials is None:
            return original(region, service, state_credentials)
        with lock:
            key = (service, region, role_arn or "")
            if key not in clients:
                template = original(region, service, state_credentials)
                clients[key] = boto3.session.Session().client(
                    service,
                    region_name=region,
                    endpoint_url=template.meta.endpoint_url,
                    aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                    aws_session_token=credentials["AWS_SESSION_TOKEN"],
                    config=template.meta.config,
                )
            return clients[key]

    boto_client.boto_client_for = boto_client_for
    for module in list(sys.modules.values()):  # every module that imported it by name
        name = getattr(module, "__name__", "")
        if name.startswith("moto.stepfunctions") and getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
    assert lambda_eval_utils.boto_client_for is boto_client_for


def hooks_installed() -> dict[str, bool]:
    """Whether moto's internals still carry our hooks (checked by a test on every moto upgrade)."""
    import moto.dynamodb.models as models
    from moto.awslambda.models import LambdaFunction
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator
    from moto.dynamodb.responses import DynamoHandler, DynamoResult
    from moto.events.models import Rule
    from moto.s3 import notifications
    from moto.stepfunctions.responses import StepFunctionResponse

    return {
        "transact": models.DynamoDBBackend.transact_write_items.__qualname__.startswith("one_snapshot_per_transaction"),
        "update_expressions": UpdateExpressionValidator.validate.__qualname__.startswith("memoised_update_expressions"),
        "query": Table.query.__qualname__.startswith("faster_queries"),
        "conditions": ConditionExpressionParser.parse.__qualname__.startswith("memoised_conditions"),
        "item_sizes": Item.__init__.__qualname__.startswith("linear_item_sizes"),
        "responses": DynamoResult.execute_result.__qualname__.startswith("plain_dynamodb_responses"),
        "s3": getattr(notifications._invoke_awslambda, "__qualname__", "").startswith("async_s3_notifications"),
        "sync": hasattr(StepFunctionResponse, "start_sync_execution"),
        "lambda": LambdaFunction._invoke_lambda.__qualname__.startswith("route_lambda_invokes"),
        "events": Rule.send_to_targets.__qualname__.startswith("route_rule_targets"),
        "dynamodb": getattr(DynamoHandler.call_action, "__qualname__", "").startswith("_serialize_dynamodb"),
        "sfn": _sfn_signed(),
    }


def _sfn_signed() -> bool:
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as lambda_eval_utils

    return getattr(lambda_eval_utils.boto_client_for, "__qualname__", "").startswith("sign_state_machine_calls")
