"""FastAPI: a form model filled by fastmime, validated (422) and documented in OpenAPI.

``FormBody(Model)`` is a dependency: fastmime parses the body in worker threads, the model is
validated as FastAPI validates ``Form()``/``File()`` parameters, and ``FormRoute`` puts the form in
the OpenAPI docs. ``/stream`` shows the other way: each part streamed to a handler as it arrives.
Run: ``uvicorn --app-dir examples fastapi_app:app`` (docs at /docs).
"""

import hashlib

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field

import fastmime
from fastmime.handlers import HashingHandler, ValueHandler
from fastmime.integrations.fastapi import FormBody, FormRoute, register_error_handlers
from fastmime.integrations.starlette import stream_request

app = FastAPI()
app.router.route_class = FormRoute  # documents each FormBody's requestBody
register_error_handlers(app)  # fastmime's errors: 413, 415, 400 with {"detail": ...}


class Upload(BaseModel):
    title: str
    photo: list[fastmime.UploadedFile] = []
    nameless: list[fastmime.UploadedFile] = Field(default=[], alias="")  # parts without a name


upload_form = FormBody(Upload, limits=fastmime.Limits(max_field_size=64 * 1024))


@app.post("/upload")
async def upload(form: Upload = Depends(upload_form)):
    files = []
    for upload in [*form.photo, *form.nameless]:
        digest = hashlib.sha256()
        while block := await upload.aread(1 << 16):
            digest.update(block)
        files.append(
            {
                "name": upload.name,
                "filename": upload.filename,
                "size": upload.size,
                "content_type": upload.content_type,
                "sha256": digest.hexdigest(),
            }
        )
    return {"fields": {"title": form.title}, "files": files}


@app.post("/stream")
async def stream(request: Request):
    parts = []

    def handler_for(part):
        handler = HashingHandler() if part.is_file else ValueHandler(max_size=64 * 1024)
        parts.append((part, handler))
        return handler

    await stream_request(request, handler_for)  # errors: the handlers registered above
    return {
        "fields": {p.name: h.text() for p, h in parts if not p.is_file},
        "files": [
            {"name": p.name, "filename": p.filename, "size": h.size, "sha256": h.sha256} for p, h in parts if p.is_file
        ],
    }


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
