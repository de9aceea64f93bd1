"""Request bodies as pydantic models, and their translation into the domain's request."""

from __future__ import annotations

import re
from collections import deque
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError
from starlette.requests import Request

from domain.accounts import MAX_GRANT
from domain.errors import FieldProblem
from domain.identifiers import USER_ID
from domain.requests import (
    AspectRatio,
    GenerationParameters,
    GenerationRequest,
    Quality,
    Style,
)
from domain.results import MAX_RESULT_IMAGES, ResultImage
from web.errors import ApiError

M = TypeVar("M", bound=BaseModel)

STRICT = ConfigDict(extra="forbid", strict=True, validate_by_alias=True, validate_by_name=False)
IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,255}\Z")
# API.md's text rules: no lone surrogate, NUL, C0 or C1 control or DEL; multi-line text (a
# prompt, a reason) may hold tab, line feed and carriage return.
UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
UNSAFE_MULTILINE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
UNSAFE_TEXT_MESSAGE = "Text must not contain NUL, control characters or lone surrogates"
TEXT_HEADERS = ("Idempotency-Key", "X-Request-ID")
PATH_FIELDS = {"generation_id": "id", "user_id": "userId"}  # the names API.md gives them
LEGACY_FIELDS = {"productImage": "productImages", "modelImage": "modelImages"}
MESSAGES = {
    ("productImages", "too_short"): "At least one product image is required",
    ("productImages", "too_long"): "At most 5 product images are allowed",
    ("modelImages", "too_long"): "At most 3 model images are allowed",
    ("customPrompt", "string_too_long"): "Custom prompt must be at most 500 characters",
    ("resultImages", "too_short"): "At least one result image is required",
    ("resultImages", "too_long"): f"At most {MAX_RESULT_IMAGES} result images are allowed",
}


def _safe_text(value: Any) -> Any:
    """Before any other check of a string, so none of them sees a lone surrogate."""
    if isinstance(value, str) and UNSAFE_TEXT.search(value):
        raise PydanticCustomError("unsafe_text", UNSAFE_TEXT_MESSAGE)
    return value


def _safe_multiline_text(value: Any) -> Any:
    if isinstance(value, str) and UNSAFE_MULTILINE_TEXT.search(value):
        raise PydanticCustomError("unsafe_text", UNSAFE_TEXT_MESSAGE)
    return value


# The text rules as /openapi.json states them (JSON Schema cannot name lone surrogates; JSON
# text from a conforming encoder has none). Documentation only: the validators above decide.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTILINE_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
IMAGE_URL_PATTERN = r"^https://res\.cloudinary\.com/[A-Za-z0-9_-]+/image/upload/[^\s\\?#]+$"
RESULT_URL_PATTERN = r"^https://[^\s\\/?#@]+([/?#][^\s\\]*)?$"
Identifier = Annotated[str, BeforeValidator(_safe_text)]  # with a pattern of its own
Text = Annotated[Identifier, Field(json_schema_extra={"pattern": TEXT_PATTERN})]
MultilineText = Annotated[
    str,
    BeforeValidator(_safe_multiline_text),
    Field(json_schema_extra={"pattern": MULTILINE_TEXT_PATTERN}),
]
ImageUrl = Annotated[
    Identifier, Field(json_schema_extra={"pattern": IMAGE_URL_PATTERN, "maxLength": 2048})
]
ResultUrl = Annotated[
    Identifier, Field(json_schema_extra={"pattern": RESULT_URL_PATTERN, "maxLength": 2048})
]
Reason = Annotated[MultilineText, Field(min_length=1, max_length=500)]  # of a grant, a fail...


def field_name(text: str) -> str:
    """`text` as a field name an answer can carry: unsafe characters written as escapes."""
    if not UNSAFE_TEXT.search(text):
        return text
    return UNSAFE_TEXT.sub(lambda unsafe: unsafe[0].encode("unicode_escape").decode(), text)


Path = tuple["Path", str] | None  # a field's path, linked to its parent's: built only if needed


def _field_of(path: Path) -> str:
    names: list[str] = []
    while path is not None:
        path, name = path
        names.append(name)
    return ".".join(reversed(names))


def _drop_unsafe_keys(body: dict[str, Any], problems: list[FieldProblem]) -> None:
    """Removes the object members whose names break the text rules, each one a problem.
    Iterative, so any depth the JSON parser took is walked in linear time."""
    waiting: deque[tuple[Any, Path]] = deque([(body, None)])
    while waiting:
        value, path = waiting.popleft()
        if isinstance(value, dict):
            for key in list(value):
                if UNSAFE_TEXT.search(key):
                    problems.append(
                        FieldProblem(_field_of((path, field_name(key))), UNSAFE_TEXT_MESSAGE)
                    )
                    del value[key]
                else:
                    waiting.append((value[key], (path, key)))
        elif isinstance(value, list):
            waiting.extend((item, (path, str(n))) for n, item in enumerate(value))


class ParametersBody(BaseModel):
    model_config = STRICT

    guidance_scale: float = Field(7.5, ge=1.0, le=20.0)
    num_inference_steps: int = Field(50, ge=20, le=100)
    strength: float = Field(0.8, ge=0.1, le=1.0)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)


class GenerateBody(BaseModel):
    model_config = STRICT

    product_images: list[ImageUrl] = Field(alias="productImages", min_length=1, max_length=5)
    model_images: list[ImageUrl] | None = Field(None, alias="modelImages", max_length=3)
    style: Style
    aspect_ratio: AspectRatio = Field(alias="aspectRatio")
    quality: Quality
    model: Text
    custom_prompt: MultilineText | None = Field(None, alias="customPrompt", max_length=500)
    parameters: ParametersBody | None = None

    def to_domain(self) -> GenerationRequest:
        parameters = self.parameters or ParametersBody()
        return GenerationRequest(
            product_images=tuple(self.product_images),
            model_images=tuple(self.model_images or ()),
            style=self.style,
            aspect_ratio=self.aspect_ratio,
            quality=self.quality,
            model=self.model,
            custom_prompt=self.custom_prompt,
            parameters=GenerationParameters(**parameters.model_dump()),
        )


class OpenAccountBody(BaseModel):
    model_config = STRICT

    user_id: Identifier = Field(alias="userId", pattern=USER_ID.pattern)
    tokens: int = Field(0, ge=0, le=MAX_GRANT)


class GrantBody(BaseModel):
    model_config = STRICT

    amount: int = Field(ge=1, le=MAX_GRANT)
    reason: Reason


class DisableBody(BaseModel):
    model_config = STRICT

    reason: Reason


class EmptyBody(BaseModel):
    model_config = STRICT


class ClaimBody(BaseModel):
    model_config = STRICT

    worker_id: Identifier = Field(alias="workerId", pattern=USER_ID.pattern)


class HeartbeatBody(ClaimBody):
    pass


class ResultDetail(BaseModel):
    """What a worker knows of a result it stored: Cloudinary's answer to its upload."""

    model_config = STRICT

    public_id: Text = Field(alias="publicId", min_length=1, max_length=255)
    format: Text | None = Field(None, min_length=1, max_length=10)
    width: int | None = Field(None, ge=1, le=100_000)
    height: int | None = Field(None, ge=1, le=100_000)


class CompleteBody(BaseModel):
    model_config = STRICT

    worker_id: Identifier = Field(alias="workerId", pattern=USER_ID.pattern)
    result_images: list[ResultUrl] = Field(
        alias="resultImages",
        min_length=1,
        max_length=MAX_RESULT_IMAGES,
        json_schema_extra={"uniqueItems": True},
    )
    result_details: list[ResultDetail] | None = Field(
        None, alias="resultDetails", min_length=1, max_length=MAX_RESULT_IMAGES
    )

    def results(self) -> list[str | ResultImage]:
        """Each URL with its detail (same index) when given; VALIDATION_ERROR on a count that
        differs from resultImages'."""
        details = self.result_details
        if details is None:
            return list(self.result_images)
        if len(details) != len(self.result_images):
            message = "resultDetails must have one entry per resultImages entry"
            raise invalid([FieldProblem("resultDetails", message)])
        return [
            ResultImage(url, detail.public_id, detail.format, detail.width, detail.height)
            for url, detail in zip(self.result_images, details, strict=True)
        ]


class FailBody(BaseModel):
    model_config = STRICT

    worker_id: Identifier = Field(alias="workerId", pattern=USER_ID.pattern)
    reason: Reason


def _problems(error: ValidationError) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        message = MESSAGES.get((field, item["type"]), item["msg"])
        problems.append(FieldProblem(field, message))
    return problems


def invalid(problems: list[FieldProblem]) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", "Invalid request data", problems=problems)


def validate(model: type[M], body: dict[str, Any]) -> M:
    problems: list[FieldProblem] = []
    _drop_unsafe_keys(body, problems)
    try:
        parsed = model.model_validate(body)
    except ValidationError as error:
        problems += _problems(error)
    if problems:
        raise invalid(problems)
    return parsed


def generation_request_from(body: dict[str, Any], request: Request) -> GenerationRequest:
    """Accepts the legacy single-image fields, and notes on the request which names were used."""
    problems: list[FieldProblem] = []
    body = dict(body)
    _drop_unsafe_keys(body, problems)
    aliases: dict[str, str] = {}
    reported: set[str] = set()  # fields whose legacy twin was already refused
    for legacy, current in LEGACY_FIELDS.items():
        if legacy not in body:
            continue
        value = body.pop(legacy)
        if value is None:
            continue
        if current in body:
            problems.append(FieldProblem(legacy, f"Send either {legacy} or {current}, not both"))
        elif not isinstance(value, str):
            problems.append(FieldProblem(legacy, "Input should be a valid string"))
            reported.add(current)
        else:
            body[current] = [value]
            aliases[current] = legacy
            aliases[f"{current}.0"] = legacy
    request.state.field_aliases = aliases
    try:
        parsed = GenerateBody.model_validate(body)
    except ValidationError as error:
        problems += [
            FieldProblem(aliases.get(p.field, p.field), p.message)
            for p in _problems(error)
            if p.field not in reported
        ]
    if problems:
        raise invalid(problems)
    return parsed.to_domain()


def idempotency_key_from(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise invalid(
            [
                FieldProblem(
                    "Idempotency-Key", "Idempotency-Key must be 1-255 printable ASCII characters"
                )
            ]
        )
    return key


def _header_text(value: str) -> str:
    """A header as the client most likely wrote it: UTF-8 when its bytes are, else Latin-1."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def require_safe_request_text(request: Request) -> None:
    """API.md's text rules for what the body does not carry: query, path and the text headers."""
    problems = [
        FieldProblem(field_name(name), UNSAFE_TEXT_MESSAGE)
        for name, value in request.query_params.multi_items()
        if UNSAFE_TEXT.search(name) or UNSAFE_TEXT.search(value)
    ]
    problems += [
        FieldProblem(PATH_FIELDS.get(name, name), UNSAFE_TEXT_MESSAGE)
        for name, value in request.path_params.items()
        if isinstance(value, str) and UNSAFE_TEXT.search(value)
    ]
    problems += [
        FieldProblem(name, UNSAFE_TEXT_MESSAGE)
        for name in TEXT_HEADERS
        if UNSAFE_TEXT.search(_header_text(request.headers.get(name, "")))
    ]
    if problems:
        raise invalid(problems)
