# Workout HLS server: python -m server on port 8000, sample clips generated at first start.
# Not built on the project's machines (they have no Docker engine); written to be built with
#   docker build -t workout-hls .
# Two stages: node fetches hls.js for the web page (only its dist/ is shipped), python runs the server.

FROM node:20-slim AS web
WORKDIR /build
COPY package.json package-lock.json ./
# Plain `npm ci` (dev dependencies too): this stage is thrown away, and it works whether hls.js is
# listed as a dependency or a dev dependency; only node_modules/hls.js/dist is copied out.
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HLS_HOST=0.0.0.0 HLS_PORT=8000 HLS_DATA_DIR=/var/lib/workout-hls \
    HLS_MIGRATIONS_DIR=/app/infra/migrations HLS_LOG_FORMAT=json

RUN useradd --system --uid 10001 --home-dir /var/lib/workout-hls --create-home hls
WORKDIR /app
# Dependencies first, from the lock with hashes (a layer that survives code changes; setuptools, the
# build backend, is locked there too), then the code without dependencies or build isolation, so nothing
# unpinned is fetched; the static web files are package data under server/web/, and /app is the working
# directory `python -m server` imports from.
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY server ./server
COPY segmenter ./segmenter
COPY playlists ./playlists
COPY assets ./assets
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && rm -rf build *.egg-info
COPY infra/migrations ./infra/migrations
COPY --from=web /build/node_modules/hls.js/dist ./node_modules/hls.js/dist

USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=90s \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
CMD ["python", "-m", "server"]
