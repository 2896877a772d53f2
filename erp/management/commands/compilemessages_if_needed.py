"""``manage.py compilemessages_if_needed``: compile translations whose ``.po`` is newer than its ``.mo``.

The ``.mo`` files are committed, so a machine without GNU gettext (``msgfmt``) still runs in both
languages; this command only refreshes stale catalogues and never fails for a missing ``msgfmt``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def stale_catalogues(base_dir: Path) -> list[Path]:
    """The ``.po`` files under the project whose ``.mo`` is missing or older."""
    stale = []
    for po in base_dir.glob("**/LC_MESSAGES/*.po"):
        if any(part in (".venv", "var", "node_modules") for part in po.relative_to(base_dir).parts):
            continue
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


class Command(BaseCommand):
    help = "Compile stale translation catalogues when msgfmt is available; never fail without it."

    def handle(self, *args, **options) -> None:
        base_dir = Path(settings.BASE_DIR)
        stale = stale_catalogues(base_dir)
        if not stale:
            return
        msgfmt = shutil.which("msgfmt")
        if msgfmt is None:
            self.stdout.write(
                f"{len(stale)} translation catalogue(s) are newer than their .mo file, but msgfmt (GNU gettext) "
                "is not installed: using the committed .mo files."
            )
            return
        failed = []
        for po in stale:
            # The same call Django's compilemessages makes, limited to the stale catalogues.
            result = subprocess.run(  # noqa: S603 - msgfmt from PATH on our own files
                [msgfmt, "--check-format", "-o", str(po.with_suffix(".mo")), str(po)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                failed.append(f"{po.relative_to(base_dir)}: {result.stderr.strip()}")
        self.stdout.write(f"Compiled {len(stale) - len(failed)} translation catalogue(s).")
        for line in failed:
            self.stderr.write(f"msgfmt failed, keeping the committed .mo: {line}")
