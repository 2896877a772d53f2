"""The auditor history report: who changed what, when and why, across every model with history."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from erp import audit
from erp.kernel.exports import csv_lines, csv_response

REPORT_PERMISSION = "erp.view_history_report"
PAGE_SIZE = 25


class HistoryFilterForm(forms.Form):
    """The report's filters; every one optional."""

    model = forms.ChoiceField(label=_("Model"), required=False)
    object = forms.CharField(
        label=_("Object code or name"), required=False, max_length=100, help_text=_("e.g. a party code or SKU")
    )
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    change_type = forms.ChoiceField(label=_("Change type"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["model"]).choices = [("", _("All models")), *audit.history_model_choices()]
        cast(forms.ChoiceField, self.fields["change_type"]).choices = [
            ("", _("All changes")),
            *audit.change_type_labels().items(),
        ]
        self.fields["object"].widget.attrs["type"] = "search"

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return cleaned

    def search_kwargs(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "model": data.get("model") or "",
            "object_query": data.get("object") or "",
            "user_query": data.get("user") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "change_type": data.get("change_type") or "",
        }


@require_GET
@login_required
@permission_required(REPORT_PERMISSION, raise_exception=True)
def history_report(request):
    """Changes across all models, newest first, filtered and paginated, each with its field diff."""
    form = HistoryFilterForm(request.GET or None)
    keys = audit.history_search(**form.search_kwargs()) if (form.is_bound is False or form.is_valid()) else None
    page_obj = None
    entries = []
    if keys is not None:
        page_obj = Paginator(keys, PAGE_SIZE).get_page(request.GET.get("page"))
        entries = audit.history_entries(page_obj.object_list)
    template = "audit/_history_results.html" if request.htmx else "audit/history_report.html"
    return render(request, template, {"form": form, "page_obj": page_obj, "entries": entries})


@require_GET
@login_required
@permission_required(REPORT_PERMISSION, raise_exception=True)
def history_export(request):
    """The same filtered changes as CSV, one line per changed field (UTF-8 with BOM for spreadsheet tools)."""
    form = HistoryFilterForm(request.GET or None)
    kwargs = form.search_kwargs() if (not form.is_bound or form.is_valid()) else None
    language = translation.get_language()

    def lines():
        # Streaming runs after the view returns: keep the user's language for labels and values.
        with translation.override(language):
            rows = audit.history_csv_rows(audit.history_search(**kwargs)) if kwargs is not None else ()
            yield from csv_lines(None, rows)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return csv_response(lines(), filename=f"history-{stamp}.csv")
