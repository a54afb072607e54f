# orderbot: one image for every role (web, worker, migrate); the command picks the role.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# opencv (pulled by the OCR engine) needs libGL and glib at import time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Everything not excluded by .dockerignore; pyproject.toml decides which packages install.
COPY . .
RUN pip install . && useradd --system --uid 10001 orderbot

USER orderbot
EXPOSE 8080
# Liveness only; readiness (/readyz) is for the load balancer.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
CMD ["orderbot", "serve", "--host", "0.0.0.0", "--port", "8080"]
