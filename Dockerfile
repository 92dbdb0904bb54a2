# Frontline: one image for the API (`frontline serve`), the workers (`frontline worker`) and
# the one-off `frontline migrate`. Build: docker build -t frontline .  See deploy/ and the
# README's "Deployment" section.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY frontline ./frontline
# wheels for Frontline and every dependency, so the runtime stage needs no compiler
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FRONTLINE_ENV=production \
    FRONTLINE_MIGRATIONS_DIR=/app/migrations \
    FRONTLINE_SECRETS_DIR=/run/secrets \
    FRONTLINE_DATABASE_URL=sqlite+aiosqlite:////data/frontline.db
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin frontline \
    && mkdir -p /app /data /run/secrets \
    && chown frontline:frontline /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels frontline \
    && rm -rf /wheels
COPY migrations /app/migrations
WORKDIR /app
USER frontline
VOLUME ["/data"]
EXPOSE 8000
# /health answers while the process serves; the worker image overrides this (no HTTP)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["frontline", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-demo", "--no-migrate", "--no-worker"]
