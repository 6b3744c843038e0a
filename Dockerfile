# Production image: slim Python, non-root, static files collected, served by daphne workers.
# The health probe sends the first ALLOWED_HOSTS name as Host (Django refuses unknown hosts);
# /health is exempt from the HTTPS redirect (prod settings).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=crm_project.settings.prod \
    PORT=8000

# pg_dump / pg_restore of the database server's major version (manage.py backup / restore refuse any
# other): from PostgreSQL's own apt repository, as Debian ships only its one version. Match PG_MAJOR
# to the server (docker-compose.yml runs 16).
ARG PG_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && . /etc/os-release \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-${PG_MAJOR} \
    && apt-get purge -y curl && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt

COPY . .
RUN groupadd --system crm && useradd --system --gid crm --home /app crm \
    && mkdir -p /app/var/media /app/var/beat && chown -R crm:crm /app/var

# collectstatic needs settings that load; build-time placeholders never reach a running container.
RUN SECRET_KEY=build-only-placeholder-secret-key-that-is-long-enough-0123456789 \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 EMAIL_URL=dummy: \
    python manage.py collectstatic --noinput

USER crm
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; host = os.environ['ALLOWED_HOSTS'].split(',')[0].strip().lstrip('.'); host = 'localhost' if host == '*' else host; u.urlopen(u.Request('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), headers={'Host': host}), timeout=4)"]
# The same image runs the background jobs: `celery -A crm_project worker` and one `celery -A crm_project beat`
# (docker-compose.yml's worker and beat services). The default command is the web server:
# WEB_CONCURRENCY daphne workers on one port (default: the cores the container may use); the
# exec makes the launcher PID 1: it passes SIGTERM on to the workers and exits if one dies.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec python -m crm_project.serve --port ${PORT}"]
