"""The API framework every app's ``api.py`` builds on (errors, strict fields, pagination, the write
throttle, token sign-in, the scoped list view). The project's URL file composes ``/api/v1/``."""
