"""A note's stored image and its renditions, as the pages and the API serve them."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import FileResponse

from ..models import Note

IMAGE_VARIANTS = ("original", "preview", "thumb")
# The renditions are JPEG; the original keeps its format (see images.ACCEPTED_FORMATS).


class ImageUnavailable(LookupError):
    """No such variant, not made yet, or its file is gone; ``str(exc)`` says which."""


@dataclass(frozen=True)
class NoteImage:
    handle: object  # an open binary file from the storage
    content_type: str
    filename: str | None  # the original's download name; renditions have none
    # A PDF is downloaded, never shown by the browser's viewer on this site.
    attachment: bool = False


def open_note_image(note: Note, variant: str) -> NoteImage:
    if variant not in IMAGE_VARIANTS:
        raise ImageUnavailable("No such image.")
    field, content_type = {
        "original": (note.image, note.content_type),
        "preview": (note.preview, "image/jpeg"),
        "thumb": (note.thumbnail, "image/jpeg"),
    }[variant]
    if not field.name:
        # Renditions appear once the worker has opened the image; until then
        # browsers get the original where they can show it.
        if variant != "original" and note.browsers_show_original:
            field, content_type = note.image, note.content_type
        else:
            raise ImageUnavailable("This image is not ready yet.")
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise ImageUnavailable("The image file is missing.") from exc
    filename = f"note-{note.pk}.{note.image.name.rsplit('.', 1)[-1]}" if variant == "original" else None
    return NoteImage(handle, content_type, filename, attachment=variant == "original" and note.is_pdf)


def image_response(image: NoteImage) -> FileResponse:
    response = FileResponse(image.handle, content_type=image.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    # Opened directly, an image must not be able to run anything (SVG-like tricks).
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    if image.filename:
        disposition = "attachment" if image.attachment else "inline"
        response["Content-Disposition"] = f"{disposition}; filename={image.filename}"
    return response
