"""How long ``petitions.photos.clean_upload`` takes on a 12-megapixel JPEG, and what it keeps.

Noise is the worst case for decoding (a real photo of the same size decodes faster). Run from the
project root: ``.venv/bin/python scripts/measure_photo_cleaning.py``.
"""

import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


def main(runs: int = 5) -> None:
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from petitions.photos import clean_upload

    out = io.BytesIO()
    Image.effect_noise((4000, 3000), 60).convert("RGB").save(out, "JPEG", quality=90)
    data = out.getvalue()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        photo = clean_upload(SimpleUploadedFile("a.jpg", data))
        times.append(time.perf_counter() - started)
    print(
        f"in: {len(data) / 1e6:.1f} MB, 4000x3000; out: {len(photo.image) / 1e3:.0f} kB {photo.width}x{photo.height}"
        f" and a {len(photo.thumbnail) / 1e3:.0f} kB thumbnail; clean_upload median"
        f" {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms over {runs} runs"
    )


if __name__ == "__main__":
    main()
