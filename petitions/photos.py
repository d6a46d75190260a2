"""Petition photos: checked, cleaned and stored on the way in; served only to whom the petition is visible.

On the way in (``clean_upload``), per file: at most ``PHOTO_MAX_BYTES``; JPEG, PNG or WebP as Pillow
reads it (not as the name or the browser says); at most ``PHOTO_MAX_PIXELS`` (no decompression
bombs). Then turned upright by its EXIF orientation, resized to ``PHOTO_MAX_EDGE`` and thumbnailed
to ``PHOTO_THUMB_EDGE``, and re-encoded as JPEG from the pixels alone: EXIF (GPS included), XMP and
comments are not carried over. Refusals are ``ValidationError``s naming the field ("照片：…").

Stored through Django's storage API (settings.STORAGES["default"]) under random names; the only way
to read one is ``photo_file``, which finds the photo through ``get_visible_or_404``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from governance.access import get_visible_or_404
from governance.models import User

from .models import Petition, PetitionPhoto

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "MPO"})  # MPO: a phone's JPEG with a depth map
JPEG_QUALITY = 85
PHOTOS_LABEL = gettext_lazy("photos")


@dataclass(frozen=True)
class CleanPhoto:
    """A photo ready to store: the re-encoded image and thumbnail, and the image's size."""

    image: bytes
    thumbnail: bytes
    width: int
    height: int


def _refuse(field: str, label: object, message: str) -> ValidationError:
    return ValidationError({field: f"{label}：{message}"})


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def clean_upload(upload: UploadedFile, *, field: str = "photos", label: object = PHOTOS_LABEL) -> CleanPhoto:
    """Check and clean one uploaded photo, or raise ValidationError naming ``field`` (by its label)."""
    name = upload.name or ""
    limit = settings.PHOTO_MAX_BYTES
    if (upload.size or 0) > limit:
        raise _refuse(
            field, label,
            _("%(name)s is %(size).1f MB; a photo may be at most %(limit)d MB.")
            % {"name": name, "size": (upload.size or 0) / 1024 / 1024, "limit": limit // 1024 // 1024},
        )
    not_a_photo = _("%(name)s is not a JPEG, PNG or WebP photo (on an iPhone, set the camera to “Most Compatible”).")
    try:
        upload.seek(0)
        with Image.open(upload) as opened:
            if opened.format not in ACCEPTED_FORMATS:
                raise _refuse(field, label, not_a_photo % {"name": name})
            if opened.width * opened.height > settings.PHOTO_MAX_PIXELS:
                raise _refuse(field, label, _("%(name)s has too many pixels.") % {"name": name})
            # A JPEG is decoded at the smallest scale (1/2, 1/4, 1/8) still at least the size kept: a
            # 12-megapixel photo decodes in a fraction of the time and memory.
            shrink = settings.PHOTO_MAX_EDGE / max(opened.width, opened.height)
            if shrink < 1:
                opened.draft("RGB", (int(opened.width * shrink), int(opened.height * shrink)))
            opened.load()
            upright = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(field, label, not_a_photo % {"name": name}) from exc
    # From the pixels alone into a new image: nothing of the file's metadata (EXIF, GPS, XMP) follows.
    if upright.mode not in ("RGB", "L"):
        rgba = upright.convert("RGBA")
        pixels = Image.new("RGB", rgba.size, (255, 255, 255))
        pixels.paste(rgba, mask=rgba.getchannel("A"))
    else:
        pixels = Image.new(upright.mode, upright.size)
        pixels.paste(upright)
    pixels.thumbnail((settings.PHOTO_MAX_EDGE, settings.PHOTO_MAX_EDGE), Image.Resampling.LANCZOS)
    image = _encode(pixels)
    thumb = pixels.copy()
    thumb.thumbnail((settings.PHOTO_THUMB_EDGE, settings.PHOTO_THUMB_EDGE), Image.Resampling.LANCZOS)
    return CleanPhoto(image=image, thumbnail=_encode(thumb), width=pixels.width, height=pixels.height)


def clean_uploads(
    uploads: Sequence[UploadedFile], *, field: str = "photos", label: object = PHOTOS_LABEL
) -> list[CleanPhoto]:
    if len(uploads) > settings.PHOTOS_PER_FORM:
        raise _refuse(field, label, _("at most %(n)d photos at a time.") % {"n": settings.PHOTOS_PER_FORM})
    return [clean_upload(upload, field=field, label=label) for upload in uploads]


def attach(petition: Petition, photos: Iterable[CleanPhoto], *, kind: str, by: User) -> list[PetitionPhoto]:
    """Store the cleaned photos on the petition (call inside the transaction of the step they go with)."""
    saved = []
    now = timezone.now()
    for photo in photos:
        row = PetitionPhoto(
            petition=petition, kind=kind, width=photo.width, height=photo.height, uploaded_by=by, at=now
        )
        row.image.save("photo.jpg", ContentFile(photo.image), save=False)
        row.thumbnail.save("thumb.jpg", ContentFile(photo.thumbnail), save=False)
        row.save()
        saved.append(row)
    return saved


class MultiplePhotoInput(forms.ClearableFileInput):
    """The phone's camera or gallery, several at once."""

    allow_multiple_selected = True

    def __init__(self, attrs: dict[str, Any] | None = None, multiple: bool = True) -> None:
        base = {"accept": "image/jpeg,image/png,image/webp,image/*", "capture": "environment"}
        if multiple:
            base["multiple"] = "multiple"
        super().__init__({**base, **(attrs or {})})
        self.allow_multiple_selected = multiple


class PhotosField(forms.FileField):
    """Zero or more photos, checked and cleaned (``clean_uploads``); cleaned_data holds ``CleanPhoto``s."""

    def __init__(self, *, multiple: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", PHOTOS_LABEL)
        super().__init__(widget=MultiplePhotoInput(multiple=multiple), **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[CleanPhoto]:  # type: ignore[override]
        uploads = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if self.required and not uploads:
            raise ValidationError(self.error_messages["required"], code="required")
        try:
            return clean_uploads(uploads, label=self.label)
        except ValidationError as exc:
            raise ValidationError(next(iter(exc.message_dict.values()))) from exc


@login_required
def photo_file(request: HttpRequest, pk: int, size: str = "full") -> FileResponse:
    """A photo (or its thumbnail) for a viewer whose scope covers the petition; 404 otherwise."""
    photo = get_visible_or_404(request.user, PetitionPhoto.objects.all(), pk=pk)
    stored = photo.thumbnail if size == "thumb" else photo.image
    response = FileResponse(stored.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
