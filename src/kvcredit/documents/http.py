"""A stored version as an HTTP download (the API's and the console's)."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse

from kvcredit.documents import services
from kvcredit.documents.models import DocumentVersion


def file_response(v: DocumentVersion) -> HttpResponse:
    """The version's bytes as an attachment, its SHA-256 in a header."""
    response = HttpResponse(services.read(v), content_type=v.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(v.filename)}"
    response["X-Content-SHA256"] = v.sha256
    response["X-Content-Type-Options"] = "nosniff"
    return response
