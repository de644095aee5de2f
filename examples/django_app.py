"""Django in one file: ``request.POST`` / ``request.FILES`` parsed by fastmime, CSRF protection on.

``FastmimeMiddleware`` (before ``CsrfViewMiddleware``) replaces Django's multipart parser through its
upload-handler hook and answers fastmime's errors with their status. The view is an ordinary,
CSRF-protected Django view; a file part without a name (which Django's own parser drops) is in
``request.FILES[""]``. Run: ``python examples/django_app.py runserver 127.0.0.1:8000`` or
``gunicorn --chdir examples django_app:application``.
"""

import hashlib
import sys

from django.conf import settings

import fastmime

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="example-only-not-secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[
            "fastmime.integrations.django.FastmimeMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        FASTMIME_LIMITS=fastmime.Limits(max_field_size=64 * 1024),
    )

import django

django.setup()

from django.http import HttpResponseBadRequest, JsonResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402


@require_POST
def upload(request):
    title = request.POST.get("title")
    if title is None:
        return HttpResponseBadRequest("title is required\n")
    files = []
    for name, uploads in request.FILES.lists():
        for upload in uploads:  # Django UploadedFile objects
            digest = hashlib.sha256()
            for block in upload.chunks():
                digest.update(block)
            files.append(
                {
                    "name": name,
                    "filename": upload.name,
                    "size": upload.size,
                    "content_type": upload.content_type,
                    "sha256": digest.hexdigest(),
                }
            )
    return JsonResponse({"fields": {"title": title}, "files": files})


@require_GET
def csrf(request):
    """The CSRF token (and its cookie), as a page with {% csrf_token %} would give it."""
    return JsonResponse({"token": get_token(request)})


urlpatterns = [path("upload", upload), path("csrf", csrf)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
