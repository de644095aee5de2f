"""Flask: ``request.form`` and ``request.files`` as usual, parsed by fastmime.

``fastmime.integrations.flask.install(app)`` plugs fastmime into Werkzeug's form parser hook and
answers fastmime's errors with their status (413, 400, 415). Unlike Werkzeug's parser it keeps a file
part without a name (``request.files[""]``). Run: ``python examples/flask_app.py`` or
``gunicorn --chdir examples flask_app:app``.
"""

import hashlib
from functools import partial

from flask import Flask, jsonify, request

import fastmime.integrations.flask

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 512 * 1024 * 1024  # the body limit
app.config["MAX_FORM_MEMORY_SIZE"] = 64 * 1024  # the limit of one text field
fastmime.integrations.flask.install(app)


@app.post("/upload")
def upload():
    title = request.form["title"]  # missing: Flask answers 400
    files = []
    for name, storage in request.files.items(multi=True):  # werkzeug FileStorage objects
        digest = hashlib.sha256()
        size = 0
        for block in iter(partial(storage.stream.read, 1 << 16), b""):
            digest.update(block)
            size += len(block)
        files.append(
            {
                "name": name,
                "filename": storage.filename,
                "size": size,
                "content_type": storage.content_type,
                "sha256": digest.hexdigest(),
            }
        )
    return jsonify({"fields": {"title": title}, "files": files})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000)
