# arxiv-digest in a container: one image, two processes (web and worker, see compose.yaml).
# Written for this repository but not built here (no container runtime on the build machine).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DIGEST_DATA_DIR=/data DIGEST_FEEDS_DIR=/app/feeds DIGEST_PROMPTS_DIR=/app/prompts
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY prompts ./prompts
COPY feeds ./feeds
COPY wsgi.py ./
RUN pip install . && useradd --system --home /data digest && mkdir -p /data && chown digest /data
USER digest
VOLUME ["/data"]
EXPOSE 8000
# DIGEST_ALLOWED_HOSTS or DIGEST_PUBLIC_URL must name the address clients use (compose sets it)
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "wsgi:app"]
