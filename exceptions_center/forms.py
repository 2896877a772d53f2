"""Forms of the event page's actions; each maps to one handling service."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from erp.kernel.files import allowed_types, max_bytes
from erp.models import SignatureMeaning
from exceptions_center.services.handling import WAIVE_MEANINGS

TEXTAREA = forms.Textarea(attrs={"rows": 2})


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label=_("Assign to"))

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        if candidates is not None:
            self.fields["assignee"].queryset = candidates


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), widget=TEXTAREA, max_length=4000)


class AttachForm(forms.Form):
    attachment = forms.FileField(label=_("Evidence (file)"))
    comment = forms.CharField(label=_("Note"), required=False, max_length=1000)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The checks themselves run in the service (erp.kernel.files); the form says what they accept.
        self.fields["attachment"].help_text = _(
            "PDF, image (PNG, JPEG, TIFF, WebP), Word, Excel, PowerPoint, TXT or CSV; at most %(mb)s MB."
        ) % {"mb": max_bytes() // (1024 * 1024)}
        self.fields["attachment"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in allowed_types())


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why reopen?"), widget=TEXTAREA, max_length=4000)


class WaiveForm(forms.Form):
    """Waiving; with ``signature`` (compliance and quality events) the password and meaning are asked."""

    reason = forms.CharField(label=_("Why is it acceptable to waive?"), widget=TEXTAREA, max_length=4000)
    meaning = forms.ChoiceField(
        label=_("Meaning of your signature"),
        choices=[(value, label) for value, label in SignatureMeaning.choices if value in WAIVE_MEANINGS],
        initial=SignatureMeaning.WAIVER,
    )
    password = forms.CharField(
        label=_("Your password (electronic signature)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Signing binds your name, the time and the meaning to this exact version of the exception."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, signature: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not signature:
            del self.fields["meaning"]
            del self.fields["password"]


class ResolveForm(WaiveForm):
    """Resolving; compliance and quality events are resolved only with the decider's signature."""

    reason = forms.CharField(label=_("How was it resolved?"), widget=TEXTAREA, max_length=4000)
    meaning = forms.ChoiceField(
        label=_("Meaning of your signature"),
        choices=[(value, label) for value, label in SignatureMeaning.choices if value in WAIVE_MEANINGS],
        initial=SignatureMeaning.APPROVAL,
    )


class TaskCompleteForm(forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(label=_("What was done"), required=False, widget=TEXTAREA, max_length=4000)


class StepDecisionForm(forms.Form):
    step = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Comment (required to reject)"), required=False, widget=TEXTAREA, max_length=4000)
