"""Flask: ``parse_form()`` instead of ``request.form`` / ``request.files``.

Streams ``wsgi.input`` through fastmime before Werkzeug's parser touches it, and keeps a file part
without a name (under ``""``). Run: ``python examples/flask_app.py`` or
``gunicorn --chdir examples flask_app:app``.
"""

import hashlib

import fastmime
from fastmime.integrations.flask import error_response, parse_form
from flask import Flask, jsonify

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 512 * 1024 * 1024  # becomes fastmime's max_body_size


@app.post("/upload")
def upload():
    try:
        form = parse_form()
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
        return jsonify({"fields": dict(form.fields), "files": files})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000)
