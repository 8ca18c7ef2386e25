"""Real HLS clients (ffmpeg, hls.js in headless Chromium, VLC, GStreamer) as test harnesses.

Each module runs one client against an HLS URL, bounded in time, kills it by its own
process group, and returns a frozen report of what the client actually decoded and
logged, because exit codes alone say little about playback (VLC exits 0 on failure).
"""
