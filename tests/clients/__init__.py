"""Real HLS clients as test harnesses: ffmpeg, VLC, GStreamer, and the browser players (hls.js in headless
Chromium and Firefox ESR, Chromium's built-in HLS player, Shaka Player), which share one test page.

Each module runs one client against an HLS URL, bounded in time, kills it by its own
process group, and returns a frozen report of what the client actually decoded and
logged, because exit codes alone say little about playback (VLC exits 0 on failure).
"""
