"""Simplified Chinese number formats for money in business documents: ¥768,400.00 (Django's own
zh_Hans locale sets no thousands separator). Only grouped output (intcomma) uses it; form inputs don't."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403 - start from Django's locale

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
