# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
# Optional extras baked into the image: traces (`otel`) and Sentry (`sentry`); both stay off
# until OTEL_* / SENTRY_DSN are set. `--build-arg EXTRAS=` builds without them.
ARG EXTRAS=otel,sentry
WORKDIR /src
COPY pyproject.toml README.md manifest.json ./
COPY graphql ./graphql
COPY saleor_alipay_app ./saleor_alipay_app
RUN python -m venv /opt/app \
 && /opt/app/bin/pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"

FROM python:3.11-slim
ENV PATH=/opt/app/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/saleor-alipay-app.db
# A non-root user owns the data folders, so that named volumes mounted there are writable:
# /data (the SQLite database and the development key file) and /sandbox-data (the simulator's).
RUN useradd --create-home --uid 10001 app \
 && mkdir /data /sandbox-data && chown app:app /data /sandbox-data
COPY --from=build /opt/app /opt/app
USER app
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# /healthz: the process answers (compose.yaml checks /readyz, the database too, on its ports).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD python -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
# `serve` applies migrations before it listens.
ENTRYPOINT ["saleor-alipay-app"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
