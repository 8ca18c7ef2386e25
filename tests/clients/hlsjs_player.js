// hls.js on the test page (tests/clients/hlsjs_client.py): plays ?src= through MediaSource; page_harness.js
// watches the element and reports. Query parameters of its own:
//   startHeight, switchAt, switchHeight   start on one level, force another at a time
//   maxHeight   (read by the harness) cap hls.js's ABR at the level this many lines tall
//   maxBuffer   seconds hls.js buffers ahead (its maxBufferLength and maxMaxBufferLength; default
//               hls.js's 30 s): small values make it fetch at the pace of playback
"use strict";
(function () {
  const h = PageHarness.start({ name: "hls.js", version: window.Hls && Hls.version });
  if (h.finished()) return;
  if (!window.Hls) { h.refuse("no-hlsjs", "hls.js did not load"); return; }
  if (!Hls.isSupported()) { h.refuse("unsupported", "Hls.isSupported() is false (no MSE/codecs)"); return; }
  const search = h.params.search, video = h.video, report = h.report;
  // ABR: start on the level of height `startHeight`, then at currentTime >= switchAt ask for `switchHeight`
  const startHeight = search.has("startHeight") ? parseInt(search.get("startHeight"), 10) : null;
  const switchAt = search.has("switchAt") ? parseFloat(search.get("switchAt")) : null;
  const switchHeight = search.has("switchHeight") ? parseInt(search.get("switchHeight"), 10) : null;
  const maxBuffer = search.has("maxBuffer") ? parseFloat(search.get("maxBuffer")) : null;
  let switchRequested = false;

  const noop = function () {};
  const bufferLimits = maxBuffer === null ? {} : { maxBufferLength: maxBuffer, maxMaxBufferLength: maxBuffer };
  const hls = new Hls(Object.assign({
    enableWorker: false,
    startPosition: h.params.start,
    debug: {
      trace: noop, debug: noop, log: noop, info: noop,
      warn: function () { report.warnings.push("hls.warn: " + h.fmt(arguments)); },
      error: function () { report.warnings.push("hls.error: " + h.fmt(arguments)); },
    },
  }, bufferLimits));
  window.hls = hls;

  h.onSample((currentTime) => {
    if (switchAt !== null && !switchRequested && currentTime >= switchAt) {
      switchRequested = true;
      const target = hls.levels.findIndex((l) => l.height === switchHeight);
      report.switchRequestedAt = { t: h.now(), ct: currentTime, level: target };
      hls.autoLevelCapping = -1;
      hls.nextLevel = target;  // a seamless switch at the next fragment boundary
    }
  });

  hls.on(Hls.Events.ERROR, (name, data) => {
    h.playerError({
      type: data.type, details: data.details, fatal: !!data.fatal,
      reason: data.reason || (data.error && String(data.error.message || data.error)) || null,
      url: (data.frag && data.frag.url) || (data.context && data.context.url) || null,
      httpStatus: (data.response && data.response.code) || null,
    }, data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR);
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (name, data) => {
    const level = hls.levels[data.level];
    report.levelSwitches.push({ t: h.now(), ct: video.currentTime, level: data.level, height: level && level.height });
  });
  hls.on(Hls.Events.FRAG_CHANGED, (name, data) => {
    const level = hls.levels[data.frag.level];
    report.fragsPlayed.push({ t: h.now(), ct: video.currentTime, sn: data.frag.sn, height: level && level.height });
  });
  // Main-stream fragments fully downloaded: [start, end) in media time, any level.
  const downloaded = [];
  hls.on(Hls.Events.FRAG_LOADED, (name, data) => {
    if (data.frag.type === "main") downloaded.push([data.frag.start, data.frag.start + data.frag.duration]);
  });
  h.onStallInfo((currentTime) => downloaded.some(([start, end]) => start <= currentTime + 0.05 && currentTime + 0.05 < end));
  hls.on(Hls.Events.MANIFEST_PARSED, (name, data) => {
    h.event("manifestParsed", { levels: data.levels.length });
    report.levelHeights = data.levels.map((l) => l.height);
    if (startHeight !== null) {
      // Start on that level and keep ABR there until the forced switch. (Setting currentLevel
      // instead would flush and refetch the first fragment, losing a mid-stream start position.)
      const index = data.levels.findIndex((l) => l.height === startHeight);
      hls.startLevel = index;
      hls.autoLevelCapping = index;
    } else if (h.params.maxHeight !== null) {
      const maxHeight = h.params.maxHeight;
      hls.autoLevelCapping = data.levels.reduce((best, l, i) => (l.height <= maxHeight && (best < 0 || l.height > data.levels[best].height) ? i : best), -1);
    }
    h.play();
  });

  hls.attachMedia(video);
  hls.loadSource(h.params.src);
})();
