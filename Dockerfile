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
COPY wsgi.py gunicorn.conf.py ./
RUN pip install . && useradd --system --home /data digest && mkdir -p /data && chown digest /data
USER digest
VOLUME ["/data"]
EXPOSE 8000
# DIGEST_ALLOWED_HOSTS or DIGEST_PUBLIC_URL must name the address clients use (compose sets it)
# gunicorn.conf.py: worker class, threads, keep-alive, preload (the reasons are in the file).
# Workers: WEB_CONCURRENCY, 2 as before; not the file's default (usable CPUs + 1), because a
# CPU quota (docker --cpus) does not show in the CPU affinity and a big host would get many.
ENV WEB_CONCURRENCY=2
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "wsgi:app"]
