"""Cold start: four Powertools packages whose ``__init__`` imports far more than a REST handler uses.

``aws_lambda_powertools`` itself imports Metrics and Tracer (we write EMF and the handler's subsegment
ourselves: ``recaudo/emf.py``, ``recaudo/tracing.py``); ``install()`` does the two other things it does,
the package logger's handler and the user agent, at once.

``aws_lambda_powertools.event_handler`` imports every resolver (AppSync, AppSync events, Bedrock agents,
VPC Lattice, function URLs, the HTTP resolver), ``event_handler.openapi`` the OpenAPI merge tool, and
``utilities.data_classes`` some forty event classes. Importing any submodule (``event_handler.api_gateway``,
``openapi.params``) runs its package's ``__init__`` first.

``install()`` registers each package as its bare module (same ``__path__``, spec and file, its ``__init__``
not run): submodules import as usual, and a name the ``__init__`` would have defined is looked up on first
use, in its submodule (the names below, the ones the REST resolver and our code reach) or, for any other
name, by running the real ``__init__`` then (so nothing that worked stops working; it only costs what it
did before). Installed by ``recaudo/__init__.py``, before anything imports Powertools' event handler:
every handler package's ``__init__`` imports ``recaudo`` first.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any

_PT = "aws_lambda_powertools"
# package -> {name its __init__ exports: submodule that defines it}; other names run the real __init__
PACKAGES: dict[str, dict[str, str]] = {
    _PT: {"Logger": "logging", "Metrics": "metrics", "single_metric": "metrics", "Tracer": "tracing"},
    f"{_PT}.event_handler": {
        "APIGatewayRestResolver": "api_gateway",
        "APIGatewayHttpResolver": "api_gateway",
        "ApiGatewayResolver": "api_gateway",
        "ALBResolver": "api_gateway",
        "CORSConfig": "api_gateway",
        "Response": "api_gateway",
        "Request": "request",
        "Depends": "depends",
        "DependencyResolutionError": "depends",
    },
    f"{_PT}.event_handler.openapi": {},
    f"{_PT}.utilities.data_classes": {
        "ALBEvent": "alb_event",
        "APIGatewayProxyEvent": "api_gateway_proxy_event",
        "APIGatewayProxyEventV2": "api_gateway_proxy_event",
        "BedrockAgentEvent": "bedrock_agent_event",
        "LambdaFunctionUrlEvent": "lambda_function_url_event",
        "VPCLatticeEvent": "vpc_lattice",
        "VPCLatticeEventV2": "vpc_lattice",
        "EventBridgeEvent": "event_bridge_event",
        "S3Event": "s3_event",
        "SQSEvent": "sqs_event",
        "event_source": "event_source",
    },
}


# dunders an ``__init__`` defines (any other, e.g. a tool probing ``__wrapped__``, must not run it)
_INIT_DUNDERS = frozenset({"__all__", "__version__", "__author__"})


# Undoes what ``install()`` set up in the top package's stead, before its real ``__init__`` runs and sets
# it up again (a name not mapped below): otherwise the user-agent hook and the logger handler twice.
_UNDO_TOP: list[Callable[[], None]] = []


def _lazy_package(name: str, names: dict[str, str]) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    state = {"full": False}
    folder = os.path.dirname(spec.origin or "")

    def _is_submodule(attr: str) -> bool:  # ``from package import submodule``: the import system's to do
        return os.path.exists(os.path.join(folder, f"{attr}.py")) or os.path.isdir(os.path.join(folder, attr))

    def __getattr__(attr: str) -> Any:
        submodule = names.get(attr)
        if submodule is not None:
            value = getattr(importlib.import_module(f"{name}.{submodule}"), attr)
        elif not state["full"] and (not attr.startswith("__") or attr in _INIT_DUNDERS) and not _is_submodule(attr):
            state["full"] = True
            if name == _PT:
                while _UNDO_TOP:
                    _UNDO_TOP.pop()()
            spec.loader.exec_module(module)  # type: ignore[union-attr]  # the real __init__, as before
            return getattr(module, attr)
        else:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        setattr(module, attr, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def install() -> None:
    """Idempotent; a package already imported (eagerly) is left as it is."""
    for name, names in PACKAGES.items():
        if name in sys.modules:
            continue
        _lazy_package(name, names)
        if name == _PT and name in sys.modules:
            _set_up_top()


def _set_up_top() -> None:
    """What the top package's ``__init__`` does besides importing: its own log records go nowhere unless
    ``POWERTOOLS_DEBUG``, and botocore sessions carry its user agent."""
    import logging

    import botocore
    from aws_lambda_powertools.package_logger import set_package_logger_handler
    from aws_lambda_powertools.shared import user_agent

    package_logger = logging.getLogger(_PT)
    before = list(package_logger.handlers)
    initializers = list(getattr(botocore, "_INITIALIZERS", ()))
    set_package_logger_handler()
    user_agent.inject_user_agent()
    added = [handler for handler in package_logger.handlers if handler not in before]
    hooks = [hook for hook in getattr(botocore, "_INITIALIZERS", ()) if hook not in initializers]

    def undo() -> None:
        for handler in added:
            package_logger.removeHandler(handler)
        for hook in hooks:
            botocore.unregister_initializer(hook)

    _UNDO_TOP.append(undo)
