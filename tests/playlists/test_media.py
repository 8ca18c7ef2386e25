from playlists.media import AAC_FRAME_SIZE, SAMPLES_PER_VIDEO_FRAME, owned_aac_frames


def test_segments_own_every_aac_frame_exactly_once():
    cuts = [0, 120, 240, 363, 486, 600, 601, 720]
    owned = [owned_aac_frames(a, b, cuts[-1]) for a, b in zip(cuts, cuts[1:])]
    assert owned[0][0] == 0
    for (_, end), (first, _) in zip(owned, owned[1:]):
        assert first == end
    assert owned[-1][1] * AAC_FRAME_SIZE >= cuts[-1] * SAMPLES_PER_VIDEO_FRAME


def test_a_segment_starts_with_the_aac_frame_playing_when_its_video_starts():
    for start in range(1, 200):
        first, _ = owned_aac_frames(start, start + 120, 10_000)
        offset = start * SAMPLES_PER_VIDEO_FRAME - first * AAC_FRAME_SIZE
        assert 0 <= offset < AAC_FRAME_SIZE


def test_four_second_segments_alternate_188_and_187_frames():
    counts = [end - first for first, end in (owned_aac_frames(k * 120, (k + 1) * 120, 10_000) for k in range(6))]
    assert sorted(set(counts)) == [187, 188] and sum(counts) == 6 * 4 * 48_000 // AAC_FRAME_SIZE


def test_the_last_segment_covers_the_end_of_the_video():
    first, end = owned_aac_frames(600, 601, 601)
    assert end * AAC_FRAME_SIZE >= 601 * SAMPLES_PER_VIDEO_FRAME > (end - 1) * AAC_FRAME_SIZE
