"""Write the live OpenAPI document to tests/api/openapi_v1.json, the published v1 contract.

Run after a deliberate, additive change to the API (``.venv/bin/python scripts/publish_openapi.py``),
then read the diff: it may add paths and keys, never change existing ones (tests/api/test_schema.py).
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

import django  # noqa: E402

django.setup()

from django.test.utils import setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

setup_test_environment()
response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
document = json.dumps(response.json(), indent=1, sort_keys=True, ensure_ascii=False)
(ROOT / "tests" / "api" / "openapi_v1.json").write_text(document, encoding="utf-8")
print("wrote tests/api/openapi_v1.json")
