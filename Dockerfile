# The leads image: web (gunicorn), worker and beat all run from it. Every dependency is a wheel,
# so the image needs no compiler.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LEADS_INSTANCE_PATH=/app/instance

WORKDIR /app
RUN useradd --create-home --uid 10001 leads
COPY pyproject.toml README.md ./
COPY leads ./leads
COPY worker ./worker
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
RUN pip install -e . && mkdir -p /app/instance && chown leads:leads /app/instance

USER leads
EXPOSE 8000
CMD ["gunicorn", "leads:create_app()", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]
