// Shaka Player on the test page (tests/clients/shaka_client.py): plays ?src= through MediaSource (MPEG-TS
// through Shaka's own transmuxer, since Chromium's MediaSource takes no video/mp2t); page_harness.js watches
// the element and reports. ?maxHeight= restricts Shaka's ABR.
"use strict";
(function () {
  const h = PageHarness.start({ name: "shaka", version: window.shaka && shaka.Player.version });
  if (h.finished()) return;
  if (!window.shaka) { h.refuse("no-shaka", "Shaka Player did not load"); return; }
  shaka.polyfill.installAll();
  if (!shaka.Player.isBrowserSupported()) { h.refuse("unsupported", "shaka.Player.isBrowserSupported() is false"); return; }
  const video = h.video, report = h.report;
  const Err = shaka.util.Error;
  const names = (table) => Object.fromEntries(Object.entries(table || {}).map(([name, value]) => [value, name]));
  const codeNames = names(Err.Code), categoryNames = names(Err.Category);

  function short(data) {
    try { return JSON.stringify(data).slice(0, 300); } catch (e) { return String(data); }
  }
  // shaka.util.Error {severity, category, code, data}: CRITICAL (2) stops playback, RECOVERABLE (1) does not.
  function record(error) {
    const code = error && error.code;
    const data = (error && error.data) || [];
    const http = code === Err.Code.BAD_HTTP_STATUS ? data[1] : null;
    h.playerError({
      type: categoryNames[error && error.category] || String(error && error.category),
      details: codeNames[code] || String(code !== undefined ? code : error),
      code: code === undefined ? null : code,
      fatal: !error || error.severity !== Err.Severity.RECOVERABLE,
      reason: error && error.message ? String(error.message) : short(data),
      url: typeof data[0] === "string" ? data[0] : null,
      httpStatus: http || null,
    }, false);
  }

  const player = new shaka.Player();
  window.player = player;
  player.addEventListener("error", (event) => record(event.detail));
  player.addEventListener("adaptation", (event) => {
    const track = player.getVariantTracks().find((t) => t.active);
    report.levelSwitches.push({ t: h.now(), ct: video.currentTime, height: track ? track.height : null });
  });
  player.addEventListener("buffering", (event) => h.event("buffering", { buffering: event.buffering }));
  if (h.params.maxHeight !== null) player.configure("abr.restrictions.maxHeight", h.params.maxHeight);

  player.attach(video)
    .then(() => player.load(h.params.src, h.params.start > 0 ? h.params.start : null))
    .then(() => {
      report.levelHeights = player.getVariantTracks().map((t) => t.height);
      h.event("loaded", { variants: report.levelHeights.length });
      h.play();
    })
    .catch(record);
  // What Shaka counted itself (stalls it detected, gaps it jumped, its switch history).
  h.onFinish((finished) => { finished.shakaStats = player.getStats(); });
})();
