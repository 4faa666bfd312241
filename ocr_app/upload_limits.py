"""Size limits applied while an upload is being read, not after.

Django's own handlers write every file of a multipart body to memory or to a
temporary file before any view runs, whatever its size. This handler runs
first: it counts each file's bytes as they arrive and, past the limit, stops
passing them on (the part is read to its end and thrown away, so the files
after it still arrive). Nothing more than the limit is ever kept for one file,
nor more than the request limit for all the files of one request together.
A refused file reaches the view as a ``RefusedUpload`` that says why.
"""

from __future__ import annotations

import io

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from .conf import inkdex


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


class RefusedUpload(UploadedFile):
    """A file of the request that was not kept; ``reason`` is for its sender."""

    def __init__(self, name: str, content_type: str, received: int, reason: str) -> None:
        # ``received`` is what had arrived when reading stopped: at least that big.
        super().__init__(io.BytesIO(), name=name, content_type=content_type, size=received)
        self.reason = reason


class UploadSizeLimit(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: keeps at most ``MAX_UPLOAD_BYTES`` of
    each file and ``MAX_UPLOAD_REQUEST_BYTES`` of all files of one request."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.file_limit = inkdex().max_upload_bytes
        self.request_limit = inkdex().max_upload_request_bytes
        self.kept = 0  # bytes of the earlier files of this request that were kept

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.reason: str | None = None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.reason is not None:
            return None  # past a limit: read on to the next part, keep nothing
        self.received += len(raw_data)
        if self.received > self.file_limit:
            self._refuse(f"This file is too large (over the {_megabytes(self.file_limit)} limit).")
            return None
        if self.kept + self.received > self.request_limit:
            self._refuse(
                f"The files of this upload together are over the {_megabytes(self.request_limit)} limit; "
                "upload this one separately."
            )
            return None
        return raw_data

    def _refuse(self, reason: str) -> None:
        self.reason = reason
        # What the handlers after this one hold of the file so far (at most the
        # limit) goes now; Django names a handler's current file ``file``.
        handlers = list(getattr(self.request, "upload_handlers", []))
        for handler in handlers[handlers.index(self) + 1 :] if self in handlers else []:
            current = getattr(handler, "file", None)
            if current is not None:
                current.close()

    def file_complete(self, file_size: int) -> RefusedUpload | None:
        if self.reason is not None:
            return RefusedUpload(self.file_name, self.content_type, self.received, self.reason)
        self.kept += self.received
        return None  # kept: the next handler returns the file
