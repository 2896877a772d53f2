"""``manage.py facts_catalogue``: print the catalogue of rule facts generated from the fact providers, or
with ``--write docs/rules.md`` replace its section in that file (between the catalogue markers)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from exceptions_center.facts_catalogue import catalogue_markdown, document_with_catalogue


class Command(BaseCommand):
    help = "Print the facts catalogue, or write it into a Markdown file between its markers."

    def add_arguments(self, parser):
        parser.add_argument("--write", metavar="FILE", help="update the catalogue section of FILE in place")

    def handle(self, *args, write=None, **options):
        if not write:
            self.stdout.write(catalogue_markdown())
            return
        path = Path(write)
        text = path.read_text(encoding="utf-8")
        updated = document_with_catalogue(text)
        if updated == text:
            self.stdout.write(f"{path}: up to date")
            return
        path.write_text(updated, encoding="utf-8")
        self.stdout.write(f"{path}: facts catalogue updated")
