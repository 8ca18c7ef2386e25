"""The server on PostgreSQL and with clips in S3-compatible storage, as separate processes."""

from __future__ import annotations

import concurrent.futures

import boto3
import httpx

from assets.records import SAMPLE_CATEGORIES
from assets.samples import SAMPLE_EXERCISES
from tests.assets.repository_backends import postgres_rows, scratch_postgres_database
from tests.conftest import running_server

PLAN = {"items": [{"exercise_id": "squat", "work_seconds": 6, "rest_seconds": 2}], "rounds": 2}


def test_on_postgresql_many_clients_creating_one_plan_get_one_id_and_one_row(tmp_path, sample_clips_dir):
    with scratch_postgres_database() as dsn:
        # 20 clients from one address: the per-client rate limit is off, this is about concurrency
        env = {"DATABASE_URL": dsn, "HLS_WARM_CLIPS": "0", "HLS_RATE_LIMIT_PER_MINUTE": "0"}
        with running_server(tmp_path, sample_clips_dir, env) as server:
            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                responses = list(
                    pool.map(lambda _: httpx.post(server.url("/api/plans"), json=PLAN, timeout=30), range(20))
                )
            assert {r.status_code for r in responses} <= {200, 201}
            assert [r.status_code for r in responses].count(201) == 1
            ids = {r.json()["id"] for r in responses}
            assert len(ids) == 1
            segment = httpx.get(
                responses[0].json()["media_playlist_urls"]["720p"].replace("index.m3u8", "1.ts"), timeout=60
            )
            assert segment.status_code == 200 and segment.content[0] == 0x47
            exercises = httpx.get(server.url("/api/exercises"), params={"category": "legs"}, timeout=10).json()
            legs = {sample.id for sample in SAMPLE_EXERCISES if "legs" in SAMPLE_CATEGORIES[sample.id]}
            assert {e["id"] for e in exercises["exercises"]} == legs >= {"squat", "lunge"}
        (identifier,) = ids
        assert postgres_rows(dsn, f"SELECT count(*) FROM plans WHERE id = '{identifier}'") == [(1,)]
        assert postgres_rows(dsn, f"SELECT count(*) FROM plan_items WHERE plan_id = '{identifier}'") == [(1,)]


def test_with_clips_in_s3_the_samples_are_uploaded_and_played_and_originals_are_presigned(
    tmp_path, sample_clips_dir, s3_endpoint
):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="clip-bucket")
    env = {
        "HLS_CLIP_S3_BUCKET": "clip-bucket",
        "HLS_CLIP_S3_PREFIX": "originals/",
        "HLS_S3_ENDPOINT_URL": s3_endpoint,
        "HLS_WARM_CLIPS": "0",
    }
    with running_server(tmp_path, sample_clips_dir, env) as server:
        stored = {o["Key"] for o in s3.list_objects_v2(Bucket="clip-bucket")["Contents"]}
        assert "originals/exercises/squat.mp4" in stored and "originals/exercises/lunge.mov" in stored
        created = httpx.post(server.url("/api/plans"), json=PLAN, timeout=30).json()
        segment = httpx.get(created["media_playlist_urls"]["720p"].replace("index.m3u8", "1.ts"), timeout=60)
        assert segment.status_code == 200
        link = httpx.get(server.url("/api/exercises/squat/clip-url"), timeout=10).json()
        assert link["url"].startswith(s3_endpoint) and "X-Amz-Signature=" in link["url"]
        original = httpx.get(link["url"], timeout=30)
        assert original.status_code == 200
        assert original.content == (sample_clips_dir / "squat.mp4").read_bytes()
        # the renderer read its local copy, fetched once into the clip cache
        assert (server.data_dir / "clip-cache" / "exercises" / "squat.mp4").read_bytes() == original.content
