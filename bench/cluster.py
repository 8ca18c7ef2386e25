"""Players on distinct plans through the balancer, with 1, 2 and 3 nodes on this machine.

    python -m bench.cluster [--players 6] [--seconds 40] [--rendition 720p] [--workers 1]
                            [--frames-dir DIR] [--clips-dir DIR]   (reuse prepared frames and clips)

Each configuration is a fresh local cluster (`tests.cluster.local`: `python -m server` nodes on one
PostgreSQL database and one S3 bucket of moto's server, Debian's nginx in front): the same players
(`bench.players.crowd`, one distinct plan each, real-time schedule, three segments ahead) play
through the balancer. Reported per configuration: segments played, missed deadlines, renders on
each node, segments a node took from the shared tier instead of rendering ("hits across nodes"),
and renders beyond one per distinct segment (duplicates). The anchor, measured in the same run: the
same three nodes behind round-robin balancing instead of hashing on the plan id.

On a two-core machine more nodes add no CPU: every node's render processes share the same two
cores, so missed deadlines do not fall with nodes here. What the figures show is the routing: with
hashing each plan's segments are rendered by one node and found in its memory, with round robin
the nodes pass segments to each other through S3 (or render them twice).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
from moto.server import ThreadedMotoServer

from assets.library import ensure_sample_library
from bench.players import CrowdResult, crowd
from tests.cluster.local import S3_PREFIX, local_cluster, node_environment, scratch_database

EXERCISES = ["squat", "jumping_jack", "push_up", "lunge", "plank", "burpee"]
CONFIGURATIONS = ((1, "plan"), (2, "plan"), (3, "plan"), (3, "round_robin"))
RAMP_SECONDS = 4.0
PREPARE_TIMEOUT_SECONDS = 900.0
"""The first node of the first configuration prepares every clip at every rendition (shared frame store)."""


@dataclass(frozen=True)
class ClusterRun:
    nodes: int
    routing: str
    crowd: CrowdResult
    renders: list[int]
    """Segments each node rendered itself."""
    tier_hits: int
    """Segments a node fetched from the shared tier instead of rendering (another node made them)."""
    memory_hits: int
    """Segment requests answered from a node's memory (or by joining its render under way)."""
    distinct: int
    """Distinct segments in the shared tier after the run: each rendered at least once."""

    @property
    def duplicates(self) -> int:
        return max(0, sum(self.renders) - self.distinct)


def player_plans(count: int) -> list[dict]:
    """Plans that share no segment: each has its own exercise order and rest."""
    plans = []
    for n in range(count):
        order = EXERCISES[n % len(EXERCISES) :] + EXERCISES[: n % len(EXERCISES)]
        items = [{"exercise_id": e, "work_seconds": 20, "rest_seconds": 5 + n} for e in order[:3]]
        plans.append({"items": items, "rounds": 1})
    return plans


def metric(text: str, name: str) -> float:
    """Sum of a Prometheus counter's samples (every label set)."""
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name) and not line.startswith("#")
    )


def run_once(work: Path, clips_dir: Path, s3_endpoint: str, nodes: int, routing: str, args) -> ClusterRun:
    bucket = f"bench-{nodes}-{routing.replace('_', '-')}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    with scratch_database() as dsn:
        environment = node_environment(dsn, s3_endpoint, args.frames_dir, args.workers, bucket)
        environment |= {"HLS_WARM_CLIPS": "1", "HLS_ACCESS_LOG": "0"}  # start warm, like a node in service
        root = Path(tempfile.mkdtemp(prefix=f"cluster-{nodes}-{routing}-", dir=work))
        with local_cluster(
            root, clips_dir, environment, nodes=nodes, routing=routing, start_timeout=PREPARE_TIMEOUT_SECONDS
        ) as running:
            result = asyncio.run(
                crowd(running.balancer_url, player_plans(args.players), args.seconds, RAMP_SECONDS, args.rendition)
            )
            healths = [node.health() for node in running.nodes]
            metrics = [httpx.get(node.url("/metrics"), timeout=10).text for node in running.nodes]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=S3_PREFIX)
    distinct = sum(len(page.get("Contents", [])) for page in pages)
    return ClusterRun(
        nodes=nodes,
        routing=routing,
        crowd=result,
        renders=[h["segments_rendered"] for h in healths],
        tier_hits=sum(h["shared_store"]["hits"] for h in healths),
        memory_hits=int(sum(metric(m, "hls_segment_cache_hits_total") for m in metrics)),
        distinct=distinct,
    )


def table(runs: list[ClusterRun]) -> str:
    """The runs as a Markdown table."""
    lines = [
        "| nodes | routing | players | segments played | missed deadlines | worst lateness | renders per node "
        "| renders beyond one per segment | hits from the shared tier | hits in a node's memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.nodes} | {run.routing.replace('_', ' ')} | {run.crowd.players} | {run.crowd.segments} "
            f"| {run.crowd.missed} | {run.crowd.worst_lateness:.2f} s | {' + '.join(map(str, run.renders))} "
            f"| {run.duplicates} | {run.tier_hits} | {run.memory_hits} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=40.0, help="media seconds each player plays")
    parser.add_argument("--rendition", default="720p")
    parser.add_argument("--workers", type=int, default=1, help="render processes per node")
    parser.add_argument("--frames-dir", type=Path, default=None, help="prepared frames, shared by every node")
    parser.add_argument("--clips-dir", type=Path, default=None, help="the sample library (generated if missing)")
    args = parser.parse_args(argv)

    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}.items():
        os.environ.setdefault(name, value)  # moto accepts any credentials
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        work = Path(scratch)
        clips_dir = args.clips_dir or work / "exercises"
        ensure_sample_library(clips_dir)
        args.frames_dir = args.frames_dir or work / "frames"
        args.frames_dir.mkdir(parents=True, exist_ok=True)
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        try:
            runs = []
            for nodes, routing in CONFIGURATIONS:
                runs.append(run_once(work, clips_dir, f"http://{host}:{port}", nodes, routing, args))
                print(table(runs[-1:]).splitlines()[-1], flush=True)
        finally:
            moto.stop()
    print(f"\n{args.players} players on distinct plans, {args.seconds:g} s of {args.rendition} each, "
          f"{args.workers} render process(es) per node, every node on this machine's cores:\n")
    print(table(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
