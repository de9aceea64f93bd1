"""The /docs page: the OpenAPI document rendered to plain HTML on the server, with no script,
so it works offline and under a strict Content-Security-Policy (docs/api.md says why)."""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

METHOD_ORDER = ("get", "post", "put", "patch", "delete")
CODE_SPAN = re.compile(r"`([^`]+)`")
CODE = r"<code>\1</code>"


def prose(text: str) -> str:
    """Paragraphs, with `code` spans: all the markup the descriptions use."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{CODE_SPAN.sub(CODE, escape(' '.join(p.split())))}</p>" for p in paragraphs)


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _type_of(schema: dict[str, Any]) -> str:
    """A schema in a few words, linking to named schemas."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#{_anchor("schema", name)}">{escape(name)}</a>'
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const']))}</code>"
    if "enum" in schema:
        return " | ".join(f"<code>{escape(json.dumps(v))}</code>" for v in schema["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " or ".join(_type_of(option) for option in schema[combinator])
    if "allOf" in schema:
        return " and ".join(_type_of(option) for option in schema["allOf"])
    kind = schema.get("type", "any")
    properties = schema.get("properties", {})
    if "success" in properties and "data" in properties:
        shown = f"<code>success</code> envelope, <code>data</code>: {_type_of(properties['data'])}"
        return shown + (", <code>nextCursor</code>" if "nextCursor" in properties else "")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if isinstance(kind, list):
        return " or ".join(escape(str(k)) for k in kind)
    shown = escape(str(kind))
    if "format" in schema:
        shown += f" ({escape(schema['format'])})"
    return shown


LIMITS = (
    ("minimum", "at least {}"),
    ("maximum", "at most {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches <code>{}</code>"),
    ("default", "default <code>{}</code>"),
)


def _limits(schema: dict[str, Any]) -> str:
    found = []
    for key, words in LIMITS:
        if key in schema:
            value = schema[key] if key != "default" else json.dumps(schema[key])
            found.append(words.format(escape(str(value))))
    for option in schema.get("anyOf", []):
        found.append(_limits(option))
    return "; ".join(part for part in found if part)


def _fields(schema: dict[str, Any]) -> str:
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return f"<p>{_type_of(schema)}</p>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code>{' <em>required</em>' if name in required else ''}"
        f"</td><td>{_type_of(field)}</td><td>{_limits(field)}</td>"
        f"<td>{prose(field.get('description', ''))}</td></tr>"
        for name, field in properties.items()
    )
    closed = "" if schema.get("additionalProperties", True) else "<p>No other field.</p>"
    return (
        "<table><thead><tr><th>field</th><th>type</th><th>limits</th><th>meaning</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>{closed}"
    )


def _example(value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return f"<pre><code>{escape(text)}</code></pre>"


def _parameters(parameters: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code>{' <em>required</em>' if p['required'] else ''}"
        f"</td><td>{escape(p['in'])}</td><td>{_type_of(p['schema'])}</td>"
        f"<td>{_limits(p['schema'])}</td><td>{prose(p.get('description', ''))}</td></tr>"
        for p in parameters
    )
    return (
        "<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th>"
        f"<th>limits</th><th>meaning</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _response(status: str, response: dict[str, Any]) -> str:
    parts = [f'<h5><span class="status s{status[0]}">{escape(status)}</span></h5>']
    parts.append(prose(response["description"]))
    headers = response.get("headers", {})
    if headers:
        items = "".join(
            f"<li><code>{escape(name)}</code>{' (always)' if header.get('required') else ''}</li>"
            for name, header in headers.items()
        )
        parts.append(f'<p class="headers">Headers:</p><ul class="headers">{items}</ul>')
    links = response.get("links", {})
    if links:
        named = ", ".join(f'<a href="#{_anchor("op", name)}">{escape(name)}</a>' for name in links)
        parts.append(f"<p>Then: {named}.</p>")
    for media_type, media in response.get("content", {}).items():
        parts.append(f"<p>Body ({escape(media_type)}): {_type_of(media['schema'])}</p>")
        if "example" in media:
            parts.append(_example(media["example"]))
    return f'<div class="response">{"".join(parts)}</div>'


def _operation(path: str, method: str, operation: dict[str, Any]) -> str:
    anchor = _anchor("op", operation["operationId"])
    parts = [
        f'<section class="operation" id="{anchor}">',
        f'<h3><span class="method {method}">{method.upper()}</span> <code>{escape(path)}</code>'
        f' <a class="self" href="#{anchor}">{escape(operation["operationId"])}</a></h3>',
        f'<p class="summary">{escape(operation["summary"])}</p>',
        prose(operation["description"]),
    ]
    if operation["parameters"]:
        parts.append(_parameters(operation["parameters"]))
    body = operation.get("requestBody")
    if body:
        media = body["content"]["application/json"]
        needed = "required" if body["required"] else "optional"
        parts.append(f"<h4>Body ({needed}): {_type_of(media['schema'])}</h4>")
        if "example" in media:
            parts.append(_example(media["example"]))
    parts.append("<h4>Answers</h4>")
    parts += [_response(status, answer) for status, answer in operation["responses"].items()]
    parts.append("</section>")
    return "".join(parts)


def reference_page(document: dict[str, Any], stylesheet: str) -> str:
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
        tag["name"]: [] for tag in document["tags"]
    }
    for path, methods in document["paths"].items():
        for method in sorted(methods, key=METHOD_ORDER.index):
            operation = methods[method]
            by_tag[operation["tags"][0]].append((path, method, operation))
    nav = "".join(
        f"<li>{escape(tag)}<ul>"
        + "".join(
            f'<li><a href="#{_anchor("op", op["operationId"])}">'
            f'<span class="method {method}">{method.upper()}</span> {escape(path)}</a></li>'
            for path, method, op in operations
        )
        + "</ul></li>"
        for tag, operations in by_tag.items()
    )
    sections = "".join(
        f'<h2 id="{_anchor("tag", tag)}">{escape(tag)}</h2>'
        + "".join(_operation(*item) for item in operations)
        for tag, operations in by_tag.items()
    )
    schemas = "".join(
        f'<section class="schema" id="{_anchor("schema", name)}"><h3>{escape(name)}</h3>'
        f"{prose(schema.get('description', ''))}{_fields(schema)}</section>"
        for name, schema in document["components"]["schemas"].items()
    )
    info = document["info"]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(info['title'])} API reference</title>"
        f'<link rel="stylesheet" href="{escape(stylesheet)}"></head><body>'
        f'<nav><p><a href="#top">{escape(info["title"])} {escape(info["version"])}</a></p>'
        f'<p><a href="/openapi.json">openapi.json</a></p><ul>{nav}</ul>'
        '<p><a href="#schemas">Schemas</a></p></nav>'
        f'<main id="top"><h1>{escape(info["title"])} API reference</h1>'
        f"{prose(info['description'])}{sections}"
        f'<h2 id="schemas">Schemas</h2>{schemas}</main></body></html>'
    )
