# Workout HLS server: python -m server on port 8000, sample clips generated at first start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HLS_HOST=0.0.0.0 HLS_PORT=8000 HLS_DATA_DIR=/var/lib/workout-hls \
    HLS_MIGRATIONS_DIR=/app/infra/migrations

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY segmenter ./segmenter
COPY playlists ./playlists
COPY assets ./assets
COPY infra/migrations ./infra/migrations
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /var/lib/workout-hls --create-home hls

USER hls
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
CMD ["python", "-m", "server"]
