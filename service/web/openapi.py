"""A registry of documented routes and the OpenAPI 3.1 document built from it and the URL map.

Each JSON route declares its parameters and response schemas with ``@operation``; the same
declaration parses the request, so the document cannot drift from what the code accepts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.routing import Rule

from service.web.auth import is_public
from service.web.params import BadParameter, Param, read_params

OPENAPI_VERSION = "3.1.0"
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "What was wrong, naming it."}},
    "additionalProperties": False,
}
View = Callable[..., ResponseReturnValue]


@dataclass(frozen=True, slots=True)
class Body:
    """A named JSON response schema, published under components/schemas."""

    name: str
    schema: Mapping[str, Any]


ERROR_BODY = Body("Error", ERROR)
SECURITY_SCHEMES = {
    "cookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "runstrength_session",
        "description": "The web session; unsafe methods also need the X-CSRFToken header.",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token created on the settings page.",
    },
}


@dataclass(frozen=True, slots=True)
class Operation:
    """What one route documents: summary, parameters and JSON responses by status."""

    operation_id: str
    summary: str
    description: str
    params: tuple[Param, ...]
    responses: Mapping[int, tuple[str, Body]]
    body: Body | None = None
    files: str | None = None  # name of the multipart file field, for uploads


_OPERATIONS: dict[object, Operation] = {}  # keyed by the registered view function


def operation(
    summary: str,
    *,
    description: str = "",
    params: tuple[Param, ...] = (),
    ok: Body,
    errors: Mapping[int, tuple[str, Body]] | None = None,
    body: Body | None = None,
    files: str | None = None,
) -> Callable[[View], View]:
    """Register a route for the document and hand it its parsed parameters as keywords.

    With ``body``, the request must carry a JSON object, handed to the view as ``body``.
    ``files`` documents a multipart upload of files under that field name (the view reads them).
    """
    responses: dict[int, tuple[str, Body]] = {200: ("OK", ok)}
    if params or body:
        responses[400] = ("A parameter or the body is missing or malformed.", ERROR_BODY)
    responses.update(errors or {})

    def register(view: View) -> View:
        @functools.wraps(view)
        def parsed(**kwargs: Any) -> ResponseReturnValue:
            if not params and body is None:  # probes never fail over a stray query string
                return view(**kwargs)
            try:
                values = read_params(params, request.args)
            except BadParameter as exc:
                return jsonify(error=str(exc)), 400
            if body is not None:
                payload = request.get_json(silent=True)
                if not isinstance(payload, dict):
                    return jsonify(error="body: expected a JSON object"), 400
                values["body"] = payload
            return view(**kwargs, **values)

        _OPERATIONS[parsed] = Operation(
            view.__name__, summary, description, params, responses, body, files
        )
        return parsed

    return register


def openapi_document(
    app: Flask, *, title: str, version: str, signed_in: bool = True
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered route the app actually serves.

    ``signed_in=False`` (single-runner mode) documents every route as open, as it then is.
    """
    paths: dict[str, dict[str, Any]] = {}
    bodies: dict[str, Mapping[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        found = _OPERATIONS.get(app.view_functions[rule.endpoint])
        if found is None:
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        private = signed_in and not is_public(rule.endpoint, app.view_functions[rule.endpoint])
        for method in methods:
            doc = _operation_doc(found, _path_params(rule), private=private)
            paths.setdefault(_path_of(rule.rule), {})[method.lower()] = doc
        bodies.update({body.name: body.schema for _text, body in found.responses.values()})
        if found.body is not None:
            bodies[found.body.name] = found.body.schema
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(bodies.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _path_of(rule: str) -> str:
    """Flask's ``/a/<int:b>`` as OpenAPI's ``/a/{b}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _path_params(rule: Rule) -> list[dict[str, Any]]:
    """Path parameters straight from the rule's variables (documented as strings)."""
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in sorted(rule.arguments)
    ]


def _operation_doc(
    found: Operation, path_params: list[dict[str, Any]], *, private: bool
) -> dict[str, Any]:
    doc: dict[str, Any] = {"operationId": found.operation_id, "summary": found.summary}
    if found.description:
        doc["description"] = found.description
    parameters = path_params + [_param_doc(p) for p in found.params]
    if parameters:
        doc["parameters"] = parameters
    body = _request_body(found)
    if body is not None:
        doc["requestBody"] = body
    responses = dict(found.responses)
    if private:
        doc["security"] = [{"cookie": []}, {"bearer": []}]
        responses.setdefault(401, ("Not signed in, or the API token is unknown.", ERROR_BODY))
    doc["responses"] = {
        str(status): {
            "description": text,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{body.name}"}}
            },
        }
        for status, (text, body) in sorted(responses.items())
    }
    return doc


def _request_body(found: Operation) -> dict[str, Any] | None:
    """A JSON object body by reference, or a multipart upload of files."""
    if found.body is not None:
        schema: dict[str, Any] = {"$ref": f"#/components/schemas/{found.body.name}"}
        return {"required": True, "content": {"application/json": {"schema": schema}}}
    if found.files is None:
        return None
    binary = {"type": "string", "contentMediaType": "application/octet-stream"}
    schema = {
        "type": "object",
        "required": [found.files],
        "properties": {found.files: {"type": "array", "items": binary}},
    }
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def _param_doc(param: Param) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": param.description,
        "schema": dict(param.schema),
    }
    if param.example is not None:
        doc["example"] = param.example
    return doc
