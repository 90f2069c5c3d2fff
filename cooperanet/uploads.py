"""Uploads past the largest size any form accepts are counted, not kept."""

from __future__ import annotations

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class SizeLimitUploadHandler(FileUploadHandler):
    """The first of FILE_UPLOAD_HANDLERS. Once a file passes ``settings.UPLOAD_MAX_BYTES``
    its further bytes are dropped as they arrive (the memory and temporary-file handlers
    after this one stop receiving them), and the file reaches the form as an empty file of
    its real size, which the form's own size check refuses with its message. A 2 GB upload
    so costs neither 2 GB of disk nor the time to write them."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.oversize = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self.oversize or start + len(raw_data) > settings.UPLOAD_MAX_BYTES:
            self.oversize = True
            return None
        return raw_data

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if not self.oversize:
            return None
        # What the next handlers kept of it (up to the limit) is let go: a temporary file
        # is deleted when closed.
        for handler in getattr(self.request, "upload_handlers", ()):
            if handler is not self and getattr(handler, "file", None) is not None:
                handler.file.close()
        return InMemoryUploadedFile(
            BytesIO(),
            self.field_name,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )
