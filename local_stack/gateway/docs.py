"""Swagger UI for the OpenAPI document, served offline from Powertools' bundled assets."""

from __future__ import annotations

from pathlib import Path

from local_stack.gateway.replies import Reply

_NOT_FOUND = Reply(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')


def docs_reply(path: str, document: Path | None) -> Reply:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    if path == "/_docs/openapi.json" and document:
        return Reply(200, [("Content-Type", "application/json")], document.read_bytes())
    if path == "/_docs/swagger-ui-bundle.min.js":
        return Reply(200, [("Content-Type", "application/javascript")], (assets / path.rsplit("/", 1)[1]).read_bytes())
    if path == "/_docs/swagger-ui.min.css":
        return Reply(200, [("Content-Type", "text/css")], (assets / path.rsplit("/", 1)[1]).read_bytes())
    # another API's document beside it: /_docs/<name> serves docs/openapi-<name>.json
    name = path.removeprefix("/_docs/").strip("/")
    if document and name and (sibling := document.parent / f"openapi-{name}.json").is_file():
        document, path = sibling, "/_docs"
    if path in ("/_docs", "/_docs/") and document:
        html = generate_swagger_html(
            document.read_text(encoding="utf-8"),
            "/_docs/swagger-ui-bundle.min.js",
            "/_docs/swagger-ui.min.css",
            "/_docs",
            None,
            persist_authorization=True,
        )
        return Reply(200, [("Content-Type", "text/html; charset=utf-8")], html.encode("utf-8"))
    return _NOT_FOUND
