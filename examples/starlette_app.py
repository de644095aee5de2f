"""Starlette: ``await parse_form(request)`` instead of ``await request.form()``.

fastmime keeps what Starlette's parser drops (a file part without a name, under ``""``), parses in a
worker thread and spools large files to disk. Run: ``uvicorn --app-dir examples starlette_app:app``.
"""

import hashlib

import fastmime
from fastmime.integrations.starlette import error_response, parse_form
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def upload(request):
    try:
        form = await parse_form(request)
    except fastmime.ClientDisconnected:
        raise
    except fastmime.MultipartError as exc:
        return error_response(exc)
    with form:
        files = []
        for name, upload in form.files.multi_items():
            digest = hashlib.sha256()
            for block in iter(lambda: upload.read(1 << 16), b""):
                digest.update(block)
            files.append({"name": name, "filename": upload.filename, "size": upload.size,
                          "content_type": upload.content_type, "sha256": digest.hexdigest()})
        return JSONResponse({"fields": dict(form.fields), "files": files})


app = Starlette(routes=[Route("/upload", upload, methods=["POST"])])

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
