# Production image: gunicorn serves the web app; the same image runs the Celery worker and beat.
# Static files are collected at build time and served by whitenoise.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=erp.settings \
    ERP_VAR_DIR=/app/var

# gettext: compile translations at build time (the .mo files are committed too); curl: healthchecks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/erp --uid 10001 erp

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings that import cleanly: a throw-away key and a dummy database URL
# (nothing connects at build time). The real values come from the environment at run time.
RUN DJANGO_SECRET_KEY=build-only-not-secret DATABASE_URL=postgresql://build@localhost/build \
    python manage.py compilemessages_if_needed \
 && DJANGO_SECRET_KEY=build-only-not-secret DATABASE_URL=postgresql://build@localhost/build \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/var/media /app/var/private \
 && chown -R erp:erp /app/var

USER erp
EXPOSE 8000
# Django answers only for DJANGO_ALLOWED_HOSTS: ask with the first of them as the Host header.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD h="${DJANGO_ALLOWED_HOSTS:-127.0.0.1}"; curl -fsS -H "Host: ${h%%,*}" http://127.0.0.1:8000/healthz || exit 1
CMD ["gunicorn", "erp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
