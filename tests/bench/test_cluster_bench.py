"""bench/cluster.py's arithmetic: its players' plans, the metrics it reads and the table it prints."""

from __future__ import annotations

from bench.cluster import ClusterRun, metric, player_plans, table
from bench.players import CrowdResult
from playlists.plan import Plan


def test_the_players_plans_are_valid_and_share_no_plan():
    plans = player_plans(8)
    assert len({Plan.model_validate(plan).model_dump_json() for plan in plans}) == 8


def test_a_counter_is_summed_over_its_label_sets_and_nothing_else():
    text = (
        "# HELP hls_segment_cache_hits_total hits\n"
        "# TYPE hls_segment_cache_hits_total counter\n"
        'hls_segment_cache_hits_total{rendition="720p"} 5.0\n'
        'hls_segment_cache_hits_total{rendition="360p"} 2.0\n'
        "hls_segment_cache_hits_created 1.7e9\n"
        "hls_segment_cache_misses_total 9.0\n"
    )
    assert metric(text, "hls_segment_cache_hits_total") == 7.0


def test_renders_beyond_the_distinct_segments_are_duplicates_and_the_table_shows_them():
    crowd = CrowdResult(players=2, segments=10, missed=1, worst_lateness=0.5, startup_median=1.0, retries=0, errors=[])
    run = ClusterRun(nodes=2, routing="round_robin", crowd=crowd, renders=[7, 5], tier_hits=3, memory_hits=4, distinct=11)
    assert run.duplicates == 1
    row = table([run]).splitlines()[-1]
    assert row == "| 2 | round robin | 2 | 10 | 1 | 0.50 s | 7 + 5 | 1 | 3 | 4 |"
