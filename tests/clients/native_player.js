// The browser's own HLS player on the test page (tests/clients/native_client.py): `video.src = ?src=`, no
// MediaSource and no script library; the browser fetches playlists and segments and picks renditions itself,
// as Safari does. page_harness.js watches the element and reports; ?maxHeight= cannot be applied.
"use strict";
(function () {
  const HLS_MIME_TYPE = "application/vnd.apple.mpegurl";
  const h = PageHarness.start({ name: "native", version: null });
  if (h.finished()) return;
  const video = h.video;
  const answer = video.canPlayType(HLS_MIME_TYPE);
  h.event("canPlayType", { answer: answer });
  if (!answer) { h.refuse("unsupported", "canPlayType('" + HLS_MIME_TYPE + "') is empty: no built-in HLS"); return; }
  video.addEventListener("loadedmetadata", () => {
    h.event("loadedmetadata", { duration: video.duration });
    if (h.params.start > 0) video.currentTime = h.params.start;
    h.play();
  }, { once: true });
  video.src = h.params.src;
})();
