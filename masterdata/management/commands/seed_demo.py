"""``manage.py seed_demo [--scale N] [--if-empty]``: build the demo data set.

The data set is built by *steps* run in order: dotted paths to functions ``step(ctx: DemoContext)``
listed in the setting ``DEMO_SEED_STEPS`` (master data first; each later app appends its own
``<app>.demo.seed``). A step receives ``ctx.scale``, a seeded ``ctx.rng(name)``, ``ctx.data`` (what
earlier steps built, e.g. ``ctx.data["parties"]``) and ``ctx.write`` for progress. Steps must be
deterministic and safe to run twice (skip what exists).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from masterdata.demo import DemoContext

DEFAULT_STEPS = ["masterdata.demo.seed"]


def seed_steps() -> list[str]:
    return list(getattr(settings, "DEMO_SEED_STEPS", DEFAULT_STEPS))


class Command(BaseCommand):
    help = "Build the deterministic demo data set (Chinese and English); --scale N grows it for benchmarks."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="1 = the hand-written demo set; N > 1 adds 100×N parties and 10×N products (1000 → ~100k parties).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when master data already exists (used by `make run`).",
        )

    def handle(self, *args, scale: int, if_empty: bool, **options) -> None:
        from masterdata.models import Party

        if scale < 1:
            raise CommandError("--scale must be 1 or more.")
        if if_empty and Party.objects.exists():
            self.stdout.write("Demo data: already loaded, nothing to do.")
            return
        ctx = DemoContext(scale=scale, write=self.stdout.write)
        started = time.perf_counter()
        for dotted in seed_steps():
            step = import_string(dotted)
            self.stdout.write(f"Seeding {dotted} (scale {scale})")
            step(ctx)
        self.stdout.write(f"Demo data loaded in {time.perf_counter() - started:.1f} s.")
