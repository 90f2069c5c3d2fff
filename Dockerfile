# CooperaNet web, worker and beat image. Settings come from the environment only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_ENV=production \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN apt-get update \
    && apt-get install --no-install-recommends -y gettext \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv==0.13.9 \
    && useradd --system --create-home --home-dir /app cooperanet

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
# collectstatic needs settings but no secrets: a throw-away key, never used at run time.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build EMAIL_URL=smtp://localhost \
    python manage.py collectstatic --noinput \
    && python manage.py compilemessages --ignore=.venv \
    && chown -R cooperanet /app
USER cooperanet
EXPOSE 8000
CMD ["gunicorn", "cooperanet.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
