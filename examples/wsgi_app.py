"""A plain WSGI app that streams uploads through fastmime: every file is hashed as it arrives.

Run: ``python examples/wsgi_app.py`` (stdlib server on 127.0.0.1:8000), or under a real server:
``gunicorn --chdir examples wsgi_app:app`` / ``waitress-serve --listen 127.0.0.1:8000 --app-dir examples wsgi_app:app``.
Try: ``curl -F title=hi -F photo=@some.jpg http://127.0.0.1:8000/upload``.
"""

import json

import fastmime.wsgi
from fastmime.handlers import HashingHandler, ValueHandler
from fastmime.http import http_error, reason_phrase


def app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST" or environ.get("PATH_INFO") != "/upload":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"POST a multipart form to /upload\n"]
    parts = []  # (part, handler) in arrival order

    def handler_for(part):
        handler = HashingHandler() if part.is_file else ValueHandler(max_size=64 * 1024)
        parts.append((part, handler))
        return handler

    try:
        fastmime.wsgi.stream_request(environ, handler_for)
    except fastmime.MultipartError as exc:
        status, message = http_error(exc)
        start_response(f"{status} {reason_phrase(status)}", [("Content-Type", "text/plain")])
        return [message.encode() + b"\n"]
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
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(result).encode()]


if __name__ == "__main__":
    from wsgiref.simple_server import make_server

    with make_server("127.0.0.1", 8000, app) as server:
        print("serving on http://127.0.0.1:8000/upload")
        server.serve_forever()
