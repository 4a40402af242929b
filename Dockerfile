# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md manifest.json ./
COPY graphql ./graphql
COPY saleor_alipay_app ./saleor_alipay_app
RUN python -m venv /opt/app \
 && /opt/app/bin/pip install --no-cache-dir .

FROM python:3.11-slim
ENV PATH=/opt/app/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/saleor-alipay-app.db
RUN useradd --create-home --uid 10001 app \
 && mkdir /data && chown app:app /data
COPY --from=build /opt/app /opt/app
USER app
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status==200 else 1)"
# `serve` applies migrations before it listens.
ENTRYPOINT ["saleor-alipay-app"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
