"""Starlette: ``await parse_form(request)`` instead of ``await request.form()``.

fastmime keeps what Starlette's parser drops (a file part without a name, under ``""``), parses in a
worker thread, spools large files to disk, and its errors are answered with their status by the
handlers ``register_error_handlers`` adds. Run: ``uvicorn --app-dir examples starlette_app:app``.
"""

import hashlib

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

import fastmime
from fastmime.integrations.starlette import parse_form, register_error_handlers

LIMITS = fastmime.Limits(max_field_size=64 * 1024)


async def upload(request):
    with await parse_form(request, limits=LIMITS) as form:  # multipart or urlencoded
        if "title" not in form.fields:
            return PlainTextResponse("title is required\n", status_code=400)
        files = []
        for name, upload in form.files.multi_items():
            digest = hashlib.sha256()
            while block := await upload.aread(1 << 16):
                digest.update(block)
            files.append(
                {
                    "name": name,
                    "filename": upload.filename,
                    "size": upload.size,
                    "content_type": upload.content_type,
                    "sha256": digest.hexdigest(),
                }
            )
        return JSONResponse({"fields": dict(form.fields), "files": files})


app = Starlette(routes=[Route("/upload", upload, methods=["POST"])])
register_error_handlers(app)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
