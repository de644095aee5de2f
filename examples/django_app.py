"""Django in one file: a view that streams uploads with ``fastmime.integrations.django``.

Each file is hashed as it arrives (``stream_request`` + a handler per part). The view is
``csrf_exempt`` because Django's CSRF check reads ``request.POST``, which would consume the body.
Run: ``python examples/django_app.py runserver 127.0.0.1:8000`` or
``gunicorn --chdir examples django_app:application``.
"""

import sys

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="example-only-not-secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    )

import django  # noqa: E402

django.setup()

import fastmime  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402
from fastmime.handlers import HashingHandler, ValueHandler  # noqa: E402
from fastmime.integrations.django import error_response, stream_request  # noqa: E402


@csrf_exempt
@require_POST
def upload(request):
    parts = []

    def handler_for(part):
        handler = HashingHandler() if part.is_file else ValueHandler(max_size=64 * 1024)
        parts.append((part, handler))
        return handler

    try:
        stream_request(request, handler_for)
    except fastmime.MultipartError as exc:
        return error_response(exc)
    fields = {p.name: h.text() for p, h in parts if not p.is_file}
    files = [{"name": p.name, "filename": p.filename, "size": h.size, "content_type": p.content_type,
              "sha256": h.sha256} for p, h in parts if p.is_file]
    return JsonResponse({"fields": fields, "files": files})


urlpatterns = [path("upload", upload)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
