"""Document numbers (``SO-2026-000123``): no gaps and no duplicates, also under real concurrency."""

import threading

import pytest
from django.db import connection, transaction

from erp.kernel.numbering import next_number


@pytest.mark.django_db
def test_next_number_counts_up_per_prefix_and_year():
    # when
    with transaction.atomic():
        numbers = [next_number("SO", year=2026) for _ in range(3)]
        other = next_number("EX", year=2026)
        next_year = next_number("SO", year=2027)

    # then
    assert numbers == ["SO-2026-000001", "SO-2026-000002", "SO-2026-000003"]
    assert other == "EX-2026-000001"
    assert next_year == "SO-2027-000001"


@pytest.mark.django_db
def test_next_number_rolled_back_with_its_transaction_leaves_no_gap():
    # given a number taken in a transaction that fails
    with transaction.atomic():
        assert next_number("RB", year=2026) == "RB-2026-000001"
        with pytest.raises(RuntimeError), transaction.atomic():
            next_number("RB", year=2026)
            raise RuntimeError("the document was refused")

        # when
        number = next_number("RB", year=2026)

    # then
    assert number == "RB-2026-000002"


@pytest.mark.django_db(transaction=True)
def test_next_number_outside_a_transaction_is_refused():
    # when / then: a number taken in autocommit mode could not be rolled back with its document
    with pytest.raises(RuntimeError):
        next_number("SO", year=2026)


@pytest.mark.django_db
def test_next_number_width_and_current_year_default():
    from django.utils import timezone

    # when
    with transaction.atomic():
        number = next_number("QC", width=4)

    # then
    assert number == f"QC-{timezone.localdate().year}-0001"


@pytest.mark.django_db(transaction=True)
def test_next_number_under_concurrency_has_no_gaps_or_duplicates():
    # given 8 threads, each with its own database connection, taking 25 numbers in 25 transactions
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    taken: list[str] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def work():
        try:
            barrier.wait(timeout=10)
            for _ in range(per_thread):
                with transaction.atomic():
                    number = next_number("CC", year=2026)
                with lock:
                    taken.append(number)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]

    # when
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)

    # then
    assert not errors, errors
    assert len(taken) == len(set(taken)) == threads * per_thread
    assert sorted(taken) == [f"CC-2026-{n:06d}" for n in range(1, threads * per_thread + 1)]
