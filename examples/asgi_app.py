"""A plain ASGI app that streams uploads through fastmime: every file is hashed as it arrives.

The parser and the handlers run in fastmime's bounded worker pool, never on the event loop.
Run: ``python examples/asgi_app.py`` or ``uvicorn --app-dir examples asgi_app:app``.
Try: ``curl -F title=hi -F photo=@some.jpg http://127.0.0.1:8000/upload``.
"""

import json

import fastmime.asgi
from fastmime.handlers import HashingHandler, ValueHandler
from fastmime.http import http_error


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["method"] != "POST" or scope["path"] != "/upload":
        return await respond(send, 404, "text/plain", b"POST a multipart form to /upload\n")
    parts = []

    def handler_for(part):
        handler = HashingHandler() if part.is_file else ValueHandler(max_size=64 * 1024)
        parts.append((part, handler))
        return handler

    try:
        await fastmime.asgi.stream_request(scope, receive, handler_for)
    except fastmime.ClientDisconnected:
        return  # nobody to answer
    except fastmime.MultipartError as exc:
        status, message = http_error(exc)
        return await respond(send, status, "text/plain", message.encode() + b"\n")
    result = {"fields": {}, "files": []}
    for part, handler in parts:
        if part.is_file:
            result["files"].append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "size": handler.size,
                    "content_type": part.content_type,
                    "sha256": handler.sha256,
                }
            )
        else:
            result["fields"][part.name] = handler.text()
    await respond(send, 200, "application/json", json.dumps(result).encode())


async def respond(send, status, content_type, body):
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
