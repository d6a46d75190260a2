"""Refusals every app's services raise, mapped once to status codes by the pages and the API."""


class TransitionNotAllowed(Exception):
    """The step is not possible from the record's current state (HTTP 409); nothing was changed."""
