"""Admin building blocks shared by every app's ``admin.py``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class HistoryReadOnlyMixin:
    """For a ``SimpleHistoryAdmin``: the history can be read but never reverted or edited.

    ``SIMPLE_HISTORY_REVERT_DISABLED`` only hides the "Revert" button; simple-history's version page
    still saves the old version on POST. History is append-only for auditors, so anything but GET is
    refused. Put it before ``SimpleHistoryAdmin`` in the bases.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
