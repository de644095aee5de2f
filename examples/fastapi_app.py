"""FastAPI: take the ``Request`` and stream it with fastmime (declare no ``File``/``Form`` parameters).

Each file is hashed as it arrives (``stream_request`` + a handler per part), in fastmime's worker
threads. Run: ``uvicorn --app-dir examples fastapi_app:app``.
"""

import fastmime
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastmime.handlers import HashingHandler, ValueHandler
from fastmime.integrations.starlette import error_response, stream_request

app = FastAPI()


@app.post("/upload")
async def upload(request: Request):
    parts = []

    def handler_for(part):
        handler = HashingHandler() if part.is_file else ValueHandler(max_size=64 * 1024)
        parts.append((part, handler))
        return handler

    try:
        await stream_request(request, handler_for, limits=fastmime.Limits(max_file_size=256 * 1024 * 1024))
    except fastmime.ClientDisconnected:
        raise
    except fastmime.MultipartError as exc:
        return error_response(exc)
    fields = {p.name: h.text() for p, h in parts if not p.is_file}
    files = [{"name": p.name, "filename": p.filename, "size": h.size, "content_type": p.content_type,
              "sha256": h.sha256} for p, h in parts if p.is_file]
    return JSONResponse({"fields": fields, "files": files})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
