// The part of every player test page that watches the <video> element and reports (tests/clients/browser_page.py).
// A player's own script (hlsjs_player.js, shaka_player.js, native_player.js) starts it, hands it the player's
// errors and calls play() once the player is ready; this script records what the element did and POSTs one
// JSON report to ./result when playback ends, on a fatal error, or after ?timeout= seconds.
// Query parameters read here:
//   src         HLS URL (multivariant or media playlist), usually on another origin
//   rate        playbackRate (default 1)
//   start       start position in seconds (default 0)
//   seekBackTo  after the first `ended`, seek here and play until `ended` again
//   timeout     seconds before the page gives up and reports (default 60)
//   sample      currentTime sampling interval in ms (default 250)
//   maxHeight   the player's adaptive choice never goes above this many lines (where the player can be told)
"use strict";
window.PageHarness = (function () {
  function number(params, name, fallback) {
    return params.has(name) ? parseFloat(params.get(name)) : fallback;
  }

  function ranges(tr) {
    const out = [];
    for (let i = 0; i < tr.length; i++) out.push([tr.start(i), tr.end(i)]);
    return out;
  }

  function fmt(args) {
    return Array.prototype.map.call(args, (a) => {
      if (typeof a === "string") return a;
      try { return JSON.stringify(a); } catch (e) { return String(a); }
    }).join(" ");
  }

  // `player`: its name and version, for the report.
  function start(player) {
    const search = new URLSearchParams(location.search);
    const params = {
      search: search,
      src: search.get("src"),
      rate: number(search, "rate", 1),
      start: number(search, "start", 0),
      seekBackTo: number(search, "seekBackTo", null),
      timeoutMs: 1000 * number(search, "timeout", 60),
      sampleMs: number(search, "sample", 250),
      maxHeight: search.has("maxHeight") ? parseInt(search.get("maxHeight"), 10) : null,
    };
    const t0 = performance.now();
    const now = () => (performance.now() - t0) / 1000;
    const video = document.getElementById("video");
    const report = {
      player: player.name, playerVersion: player.version || null, userAgent: navigator.userAgent,
      src: params.src, rate: params.rate, start: params.start, seekBackTo: params.seekBackTo,
      ended: false, endedAt: null, endedAfterSeek: params.seekBackTo === null ? null : false,
      errors: [], stalls: 0, stallEvents: [], warnings: [], events: [],
      timeline: [], afterSeekTimeline: [], mediaError: null, finishReason: null,
      levelHeights: [], levelSwitches: [], fragsPlayed: [], switchRequestedAt: null, sizes: [],
    };
    const samplers = [], finishers = [];
    let finished = false;
    let pass = 1;              // 2 after the seek back
    let hasPlayed = false;     // a `waiting` before first `playing` is start-up, not a stall
    let inStall = false;       // collapse the events of one stall (waiting, a player's stall error)
    let seekPending = false;   // `waiting` from a seek until `playing` resumes is not a stall

    function event(name, extra) {
      const e = { t: now(), name: name, ct: video.currentTime, pass: pass };
      if (extra) Object.assign(e, extra);
      report.events.push(e);
    }
    // What was buffered at the playhead when playback stopped: a stall with the next second (or
    // the rest of the stream) already buffered is the decoder falling behind on a busy machine;
    // one without is the player starved of data. The harness tells the two apart (browser_page.py).
    function bufferedAhead() {
      const tr = video.buffered, ct = video.currentTime;
      for (let i = 0; i < tr.length; i++) {
        if (tr.start(i) <= ct + 0.05 && ct < tr.end(i)) return { ahead: tr.end(i) - ct, toEnd: tr.end(i) >= video.duration - 0.05 };
      }
      return { ahead: 0, toEnd: false };
    }
    // A player that knows what it has downloaded says whether the media at the playhead had arrived
    // (`loaded`): a stall on data already received is the machine processing it late, not the server.
    let arrivedAt = null;
    function stallFacts() {
      const facts = bufferedAhead();
      if (arrivedAt) facts.loaded = arrivedAt(video.currentTime);
      return facts;
    }
    function stall(kind) {
      if (!hasPlayed || video.seeking || seekPending || finished) return null;
      if (!inStall) { report.stalls += 1; inStall = true; }
      const e = Object.assign({ t: now(), ct: video.currentTime, kind: kind, pass: pass, episode: report.stalls }, stallFacts());
      report.stallEvents.push(e);
      return e;
    }

    function finish(reason) {
      if (finished) return;
      finished = true;
      finishers.forEach((finisher) => {
        try { finisher(report); } catch (e) { report.warnings.push("finisher: " + String(e)); }
      });
      report.finishReason = reason;
      report.elapsed = now();
      report.duration = video.duration;
      report.currentTime = video.currentTime;
      report.buffered = ranges(video.buffered);
      report.played = ranges(video.played);
      report.videoWidth = video.videoWidth;
      report.videoHeight = video.videoHeight;
      report.readyState = video.readyState;
      const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
      report.droppedFrames = q ? q.droppedVideoFrames : null;
      report.totalFrames = q ? q.totalVideoFrames : null;
      // Firefox alone counts the frames its decoder produced: what the stream delivered, whatever the CPU.
      report.decodedFrames = ("mozDecodedFrames" in video) ? video.mozDecodedFrames : null;
      if (video.error) report.mediaError = { code: video.error.code, message: video.error.message };
      const body = JSON.stringify(report);
      const post = () => fetch("/result", { method: "POST", headers: { "Content-Type": "application/json" }, body: body });
      post().catch(() => setTimeout(() => post().catch(() => {}), 500));
    }

    // An error the player reported: {type, details, fatal, reason, url, httpStatus}. A fatal one ends the run.
    // With `stalled`, it is the player saying playback stopped: recorded as a stall with what was buffered.
    function playerError(entry, stalled) {
      const at = Object.assign({ t: now(), ct: video.currentTime }, entry);
      report.errors.push(at);
      if (stalled) {
        const e = stall(entry.details);
        Object.assign(at, stallFacts(), { episode: e ? e.episode : null });
      }
      if (entry.fatal) finish("fatal:" + entry.details);
      return at;
    }

    function play() {
      video.defaultPlaybackRate = params.rate;
      video.playbackRate = params.rate;
      const p = video.play();
      if (p && p.catch) p.catch((e) => report.warnings.push("play() rejected: " + String(e)));
    }

    // Browser-level problems (MSE exceptions, script errors) also count as warnings.
    const origWarn = console.warn.bind(console), origError = console.error.bind(console);
    console.warn = function () { report.warnings.push("console.warn: " + fmt(arguments)); origWarn.apply(null, arguments); };
    console.error = function () { report.warnings.push("console.error: " + fmt(arguments)); origError.apply(null, arguments); };
    window.addEventListener("error", (e) => report.warnings.push("window.error: " + e.message));
    window.addEventListener("unhandledrejection", (e) => report.warnings.push("unhandledrejection: " + String(e.reason)));

    setTimeout(() => finish("timeout"), params.timeoutMs);
    setInterval(() => {
      if (finished) return;
      samplers.forEach((sampler) => sampler(video.currentTime));
      const s = { t: now(), ct: video.currentTime, rs: video.readyState, paused: video.paused, pass: pass };
      report.timeline.push(s);
      if (pass === 2) report.afterSeekTimeline.push(s);
    }, params.sampleMs);

    video.addEventListener("playing", () => { hasPlayed = true; inStall = false; seekPending = false; event("playing"); });
    video.addEventListener("waiting", () => { event("waiting"); stall("waiting"); });
    video.addEventListener("seeking", () => { seekPending = true; event("seeking"); });
    video.addEventListener("seeked", () => { inStall = false; event("seeked"); });
    video.addEventListener("ratechange", () => event("ratechange", { rate: video.playbackRate }));
    // The picture size as it changes: the renditions a player that is not asked (the browser's own) chose.
    video.addEventListener("resize", () => report.sizes.push({ t: now(), ct: video.currentTime, width: video.videoWidth, height: video.videoHeight }));
    video.addEventListener("error", () => {
      const e = video.error;
      report.mediaError = e ? { code: e.code, message: e.message } : { code: null, message: "unknown" };
      event("mediaError", report.mediaError);
      finish("media-error");
    });
    video.addEventListener("ended", () => {
      event("ended");
      if (pass === 1) {
        report.ended = true;
        report.endedAt = now();
        if (params.seekBackTo === null) { finish("ended"); return; }
        pass = 2;
        seekPending = true;
        video.currentTime = params.seekBackTo;
        const p = video.play();
        if (p && p.catch) p.catch((e) => report.warnings.push("play() after seek rejected: " + String(e)));
      } else {
        report.endedAfterSeek = true;
        finish("ended-after-seek");
      }
    });

    // Stops before playing, with the reason (no src, no player library, no support).
    function refuse(reason, warning) {
      report.warnings.push(warning);
      finish(reason);
    }
    if (!params.src) refuse("no-src", "no src parameter");

    return {
      params: params, report: report, video: video, now: now, event: event, playerError: playerError,
      play: play, finish: finish, refuse: refuse, fmt: fmt,
      finished: () => finished,
      // `sampler(currentTime)` runs at every timeline sample, before it is recorded.
      onSample: (sampler) => samplers.push(sampler),
      // `finisher(report)` adds the player's own figures to the report just before it is posted.
      onFinish: (finisher) => finishers.push(finisher),
      // `arrived(currentTime)`: whether the media at that time has been downloaded (see stallFacts).
      onStallInfo: (arrived) => { arrivedAt = arrived; },
    };
  }

  return { start: start };
})();
