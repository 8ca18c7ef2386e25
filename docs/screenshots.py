"""Screenshots of a real stream: post a plan to a running server, fetch its segments
over HTTP as a player would, decode chosen instants and save them as PNG.

    python -m server &            # in one shell
    python docs/screenshots.py    # writes docs/images/{intro,work,rest,complete}.png
    python docs/screenshots.py --rendition 234p   # docs/images/234p-{intro,work,rest,complete}.png
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import av
import httpx
import m3u8

PLAN = {
    "items": [
        {"exercise_id": "lunge", "work_seconds": 20, "rest_seconds": 10},
        {"exercise_id": "jumping_jack", "work_seconds": 20},
    ],
    "rounds": 2,
    "rest_between_rounds_seconds": 15,
    "intensity": "high",
    "music": "groove",
}
INSTANTS = {"intro": 1.5, "work": 3 + 12.4, "rest": 3 + 20 + 4.2}
"""Seconds into the workout; the closing card is taken one second before the end."""
START_RENDITION = "720p"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "images")
    parser.add_argument("--rendition", default=START_RENDITION, help="e.g. 234p, the cellular baseline")
    args = parser.parse_args()
    prefix = "" if args.rendition == START_RENDITION else f"{args.rendition}-"
    args.out.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=60) as client:
        created = client.post(f"{args.server}/api/plans", json=PLAN).raise_for_status().json()
        media_url = created["media_playlist_urls"][args.rendition]
        playlist = m3u8.loads(client.get(media_url).text)
        instants = dict(INSTANTS, complete=created["duration_seconds"] - 1)
        start = 0.0
        for segment in playlist.segments:
            end = start + segment.duration
            wanted = {name: t for name, t in instants.items() if start <= t < end}
            if wanted:
                data = client.get(media_url.rsplit("/", 1)[0] + "/" + segment.uri).raise_for_status().content
                with av.open(io.BytesIO(data), format="mpegts") as container:
                    for frame in container.decode(video=0):
                        for name, t in list(wanted.items()):
                            if frame.time >= t:
                                path = args.out / f"{prefix}{name}.png"
                                frame.to_image().save(path)
                                print(path, f"at {frame.time:.2f} s")
                                del wanted[name]
            start = end
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
