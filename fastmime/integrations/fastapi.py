"""FastAPI: a form dependency parsed by fastmime, validated like ``Form()``/``File()``, in the OpenAPI docs.

::

    from fastapi import Depends, FastAPI
    from pydantic import BaseModel
    import fastmime
    from fastmime.integrations.fastapi import FormBody, FormRoute, register_error_handlers

    app = FastAPI()
    app.router.route_class = FormRoute             # puts each FormBody's requestBody in OpenAPI
    register_error_handlers(app)                   # fastmime's errors -> 413/415/400, {"detail": ...}

    class Upload(BaseModel):
        title: str
        tags: list[str] = []
        photo: fastmime.UploadedFile
        extras: list[fastmime.UploadedFile] = []

    upload_form = FormBody(Upload)

    @app.post("/upload")
    async def upload(form: Upload = Depends(upload_form)):
        data = await form.photo.aread()

:class:`FormBody` parses the body (multipart/form-data, or application/x-www-form-urlencoded when the
model has no file) with :func:`fastmime.integrations.starlette.parse_form` in fastmime's worker
threads, fills the model (a ``list[...]`` field takes every value of its name; a file part without a
name is under ``""``, reachable with ``Field(alias="")``) and validates it with pydantic: a missing or
invalid field is FastAPI's own 422 ``RequestValidationError``, with ``loc`` ``["body", name]``. The
files are closed when the route (and the response) is done. ``FormBody()`` without a model yields
the :class:`fastmime.Form` itself.

FastAPI documents only the bodies of its own ``Form()``/``File()`` parameters, and those would make
it parse the body first. :class:`FormRoute` (a route class) adds the model's schema as the
operation's ``requestBody``; without it, pass ``openapi_extra=upload_form.openapi_extra`` to the
route decorator.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from starlette.requests import Request  # at run time: FastAPI reads __call__'s signature

from .._form import Form
from .._limits import Limits
from . import _lazy_attribute
from .starlette import error_response, parse_form, register_error_handlers

if TYPE_CHECKING:
    from fastapi.routing import APIRoute

__all__ = ["FormBody", "FormRoute", "register_error_handlers", "error_response"]

M = TypeVar("M")


class FormBody(Generic[M]):
    """A FastAPI dependency that yields the request's form, as a pydantic ``model`` or a Form."""

    def __init__(
        self,
        model: type[M] | None = None,
        *,
        limits: Limits | None = None,
        spool_threshold: int = 1024 * 1024,
        upload_dir: str | os.PathLike[str] | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.model = model
        self.limits = limits
        self.spool_threshold = spool_threshold
        self.upload_dir = upload_dir
        self.executor = executor

    async def __call__(self, request: Request) -> AsyncIterator[Any]:
        form = await parse_form(
            request,
            limits=self.limits,
            spool_threshold=self.spool_threshold,
            upload_dir=self.upload_dir,
            executor=self.executor,
        )
        async with form:  # files on disk are removed from a worker thread, after the response
            yield form if self.model is None else self.validate(form)

    def validate(self, form: Form) -> M:
        """The model filled from ``form``; FastAPI's ``RequestValidationError`` (422) when it does not fit."""
        from fastapi.exceptions import RequestValidationError
        from pydantic import BaseModel, ValidationError

        model = self.model
        assert model is not None and issubclass(model, BaseModel)
        data: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            key = field.alias if field.alias is not None else name
            values: list[Any] = [*form.fields.getall(key), *form.files.getall(key)]
            if not values:
                continue  # missing: pydantic says so, or takes the default
            data[key] = values if _is_sequence(field.annotation) else values[0]
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = [
                {**error, "loc": ("body", *error["loc"])}
                for error in exc.errors(include_url=False, include_input=False, include_context=False)
            ]
            raise RequestValidationError(errors) from None

    @property
    def openapi_extra(self) -> dict[str, Any]:
        """The OpenAPI ``requestBody`` of this form, in the shape of a route's ``openapi_extra``."""
        schema: dict[str, Any] = {"type": "object"}
        media_types = ["multipart/form-data", "application/x-www-form-urlencoded"]
        if self.model is not None:
            from pydantic import BaseModel

            assert issubclass(self.model, BaseModel)
            schema = self.model.model_json_schema(by_alias=True)
            if _has_files(schema):
                media_types = media_types[:1]
        required = bool(schema.get("required"))
        return {"requestBody": {"required": required, "content": {media: {"schema": schema} for media in media_types}}}


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    return origin in (list, tuple, set, frozenset)


def _has_files(schema: Any) -> bool:
    if isinstance(schema, dict):
        if schema.get("format") == "binary":
            return True
        return any(_has_files(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_has_files(value) for value in schema)
    return False


def _form_bodies(dependant: Any) -> list[FormBody[Any]]:
    found = [dependant.call] if isinstance(dependant.call, FormBody) else []
    for sub in dependant.dependencies:
        found.extend(_form_bodies(sub))
    return found


def _route_class() -> type[APIRoute]:
    from fastapi.routing import APIRoute

    class Route(APIRoute):
        """An APIRoute that documents the requestBody of the :class:`FormBody` it depends on."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            bodies = _form_bodies(self.dependant)
            if bodies:
                extra = dict(self.openapi_extra or {})
                extra.setdefault("requestBody", bodies[0].openapi_extra["requestBody"])
                self.openapi_extra = extra

    Route.__name__ = Route.__qualname__ = "FormRoute"
    Route.__module__ = __name__
    return Route


#: FastAPI's APIRoute subclass that documents FormBody requestBodies; made on first access.
FormRoute: type[APIRoute]


__getattr__ = _lazy_attribute(globals(), "FormRoute", _route_class)
