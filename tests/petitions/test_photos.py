"""Petition photos: cleaned on the way in (EXIF and GPS gone, resized, thumbnailed), refused with the
field named when too big or not a photo, and served only to viewers whose scope covers the petition."""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from petitions.forms import PetitionRegisterForm
from petitions.models import Petition, PetitionPhoto, Status

from ..conftest import World
from ..support.images import MAKER, gif, has_gps, jpeg_with_gps, png, upload
from .test_pages import form_data, login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a temporary directory (the storage API, as configured in production)."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def register(client: Client, world: World, photos: list[Any], **overrides: Any) -> Any:
    return client.post(reverse("petitions:register"), {**form_data(world, **overrides), "photos": photos})


def field_errors(response: Any, field: str) -> str:
    match = re.search(rf'data-field="{field}" role="alert">(.*?)</ul>', response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""


def label_zh(field: str) -> str:
    with translation.override("zh-hans"):
        return str(PetitionRegisterForm.base_fields[field].label)


def test_photos_on_registration_are_stored_without_exif_resized_and_thumbnailed(
    client: Client, world: World, media: Path
) -> None:
    source = jpeg_with_gps()
    assert has_gps(source) and MAKER.encode() in source  # the phone's photo carries where it was taken
    photos = [upload(source), upload(png(), "plan.png", "image/png")]
    response = register(login(client, world.worker), world, photos)
    assert response.status_code == 302
    petition = Petition.objects.get()
    stored = list(petition.photos.order_by("id"))
    assert [p.kind for p in stored] == [PetitionPhoto.Kind.PROBLEM] * 2
    for photo in stored:
        for field, edge in ((photo.image, 1600), (photo.thumbnail, 320)):
            data = field.read()
            field.close()
            assert not has_gps(data) and MAKER.encode() not in data and b"Exif" not in data
            with Image.open(io.BytesIO(data)) as image:
                assert image.format == "JPEG" and max(image.size) <= edge
                assert not image.getexif()
    assert (stored[0].width, stored[0].height) == (1600, 1067)
    # Under random names in the storage, never the file's own name or the petition's number.
    names = [str(p.image.name) for p in stored] + [str(p.thumbnail.name) for p in stored]
    assert len(set(names)) == 4 and all(re.fullmatch(r"photos/\d{4}/\d{2}/[\w-]{32}\.jpg", n) for n in names)
    assert all((media / n).exists() for n in names)

    page = client.get(petition.get_absolute_url()).content.decode()
    for photo in stored:
        assert reverse("petitions:photo-thumb", args=[photo.pk]) in page
        assert reverse("petitions:photo", args=[photo.pk]) in page


def test_a_photo_too_big_is_refused_naming_the_field_and_nothing_is_written(
    client: Client, world: World, settings: Any, media: Path
) -> None:
    settings.PHOTO_MAX_BYTES = 2 * 1024 * 1024
    big = jpeg_with_gps(size=(4000, 3000))
    big += b"\0" * (settings.PHOTO_MAX_BYTES + 1 - len(big))  # a JPEG still, only larger
    response = register(login(client, world.worker), world, [upload(big, "big.jpg")])
    assert response.status_code == 400
    errors = field_errors(response, "photos")
    assert label_zh("photos") in errors and "big.jpg" in errors and "2 MB" in errors
    assert Petition.objects.count() == 0 and PetitionPhoto.objects.count() == 0
    assert not media.exists() or not any(media.rglob("*.jpg"))


@pytest.mark.parametrize(
    ("data", "name"), [(gif(), "anim.gif"), (b"%PDF-1.4 not a photo", "scan.jpg"), (b"ftypheic" * 50, "IMG_2.HEIC")]
)
def test_a_file_that_is_not_a_jpeg_png_or_webp_is_refused_naming_the_field(
    client: Client, world: World, data: bytes, name: str
) -> None:
    response = register(login(client, world.worker), world, [upload(data, name, "image/jpeg")])
    assert response.status_code == 400
    errors = field_errors(response, "photos")
    assert label_zh("photos") in errors and name in errors and "JPEG" in errors
    assert Petition.objects.count() == 0


def test_photo_urls_answer_only_within_the_scope(client: Client, world: World) -> None:
    response = register(login(client, world.worker), world, [upload(jpeg_with_gps())])
    photo = PetitionPhoto.objects.get()
    full, thumb = reverse("petitions:photo", args=[photo.pk]), reverse("petitions:photo-thumb", args=[photo.pk])
    got = client.get(full)
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg"
    body = b"".join(got.streaming_content)  # type: ignore[attr-defined]
    assert "no-store" in got["Cache-Control"] and body[:2] == b"\xff\xd8"
    assert client.get(thumb).status_code == 200
    # Another street's worker, and a department it was never dispatched to: the same 404 as a missing photo.
    for outsider in (world.foreign_worker, world.dept):
        other = login(Client(), outsider)
        assert other.get(full).status_code == 404 and other.get(thumb).status_code == 404
    assert login(Client(), world.worker).get(reverse("petitions:photo", args=[photo.pk + 999])).status_code == 404
    # Nobody signed in: to the sign-in page, never the file.
    anonymous = Client().get(full)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert response.status_code == 302


def test_the_work_done_is_photographed_with_the_result(client: Client, world: World) -> None:
    petition = world.petition()
    login(client, world.worker)
    response = client.post(
        reverse("petitions:resolve", args=[petition.pk]),
        {
            "result": "已清理楼道杂物",
            "photos": [upload(jpeg_with_gps(), "after.jpg"), upload(png(), "b.png", "image/png")],
        },
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED
    assert list(petition.photos.values_list("kind", flat=True)) == [PetitionPhoto.Kind.WORK_DONE] * 2
    # A refused photo refuses the step: the petition stays where it was.
    other = world.petition()
    refused = client.post(
        reverse("petitions:resolve", args=[other.pk]), {"result": "已处理", "photos": [upload(gif(), "x.gif")]}
    )
    assert refused.status_code == 400 and field_errors(refused, "photos")
    other.refresh_from_db()
    assert other.status == Status.REGISTERED and other.photos.count() == 0
