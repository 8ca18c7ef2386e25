// The workout player page: browse the catalogue, build a plan (or generate one from a
// sentence), then play its HLS stream. Plain ES module, public API only, no framework.
// Sections: api, catalogue, builder, generator, player, start-up.

const INTRO_SECONDS = 3; // the "Get ready" 3-2-1 (playlists/plan.py INTRO_SECONDS)
const OUTRO_SECONDS = 4; // the "Workout complete" card (OUTRO_SECONDS)
const DEFAULT_WORK_SECONDS = 40;
const DEFAULT_REST_SECONDS = 20;
const MAX_INTERVAL_SECONDS = 3600;
const MAX_ROUNDS = 20;
const PAGE_LIMIT = 100; // the catalogue API's largest page
const THUMBNAIL_WIDTH = 320;
const THUMBNAIL_RETRIES = 3; // pictures are drawn a few at a time; a busy server answers 503
const THUMBNAIL_RETRY_MS = 2000;
const THUMBNAILS_AT_ONCE = 4; // half the pictures the server lets wait (MAX_PICTURES_PENDING)
const HLSJS_URL = "/vendor/hls.min.js";
const HLS_MIME = "application/vnd.apple.mpegurl";

const $ = (id) => document.getElementById(id);

function element(tag, properties = {}, children = []) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

function clock(seconds) {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = String(seconds % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

// ---------------------------------------------------------------- api

class ApiError extends Error {
  constructor(status, body) {
    super(body.detail || `HTTP ${status}`);
    this.status = status;
    this.code = body.error;
    this.fields = body.fields || [];
  }
}

async function api(path, options = {}) {
  const init = { headers: { accept: "application/json" }, ...options };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, { error: "network", detail: `the server did not answer (${error.message})` });
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** "items › 2 › work_seconds: Input should be greater than 0", one line per offending field. */
function describeError(error) {
  if (!(error instanceof ApiError) || error.fields.length === 0) return [error.message];
  return error.fields.map((field) => (field.loc?.length ? `${field.loc.join(" › ")}: ${field.msg}` : field.msg));
}

function showErrors(container, error) {
  const summary = element("p", { textContent: error.status ? `${error.message} (HTTP ${error.status})` : error.message });
  const fields = error.fields?.length ? describeError(error).map((line) => element("li", { textContent: line })) : [];
  container.replaceChildren(summary, ...(fields.length ? [element("ul", {}, fields)] : []));
}

// ---------------------------------------------------------------- catalogue

const catalogue = {
  byId: new Map(), // every exercise seen (the first, unfiltered load sees all), for names in the builder

  async fetchAll(category) {
    const found = [];
    for (let offset = 0; offset !== null; ) {
      const query = new URLSearchParams({ limit: PAGE_LIMIT, offset });
      if (category) query.set("category", category);
      const page = await api(`/api/exercises?${query}`);
      found.push(...page.exercises);
      offset = page.next_offset ?? null;
    }
    for (const exercise of found) this.byId.set(exercise.id, exercise);
    return found;
  },

  name(id) {
    return this.byId.get(id)?.name ?? id;
  },

  async load(category = "") {
    const status = $("catalogue-status");
    status.textContent = "Loading the catalogue…";
    try {
      const exercises = await this.fetchAll(category);
      $("exercise-list").replaceChildren(...exercises.map((exercise) => this.card(exercise)));
      status.textContent = exercises.length ? "" : "No exercises in this category.";
    } catch (error) {
      status.textContent = `Could not load the catalogue: ${error.message}`;
    }
  },

  async loadCategories() {
    const { categories } = await api("/api/categories");
    $("category-filter").append(
      ...categories.map((c) => element("option", { value: c.id, textContent: `${c.id} (${c.exercises})` })),
    );
  },

  card(exercise) {
    const details = [exercise.difficulty, ...exercise.categories, exercise.jump ? "jumps" : "no jumps"].join(" · ");
    const button = element("button", { type: "button", className: "card", disabled: !exercise.playable }, [
      exercise.playable ? this.thumbnail(exercise) : element("span", { className: "no-clip", textContent: "no clip yet" }),
      element("span", { className: "card-name", textContent: exercise.name }),
      element("span", { className: "card-details", textContent: details }),
    ]);
    button.dataset.exerciseId = exercise.id;
    button.title = exercise.playable ? `Add ${exercise.name} to the workout` : "This exercise has no clip yet";
    button.addEventListener("click", () => builder.add(exercise.id));
    return element("li", {}, [button]);
  },

  thumbnail(exercise) {
    const url = (width) => `/api/exercises/${encodeURIComponent(exercise.id)}/thumbnail.jpg?width=${width}`;
    const img = element("img", { alt: "", width: THUMBNAIL_WIDTH, height: (THUMBNAIL_WIDTH * 9) / 16, decoding: "async" });
    img.dataset.src = url(THUMBNAIL_WIDTH);
    img.dataset.srcset = `${url(THUMBNAIL_WIDTH)} 1x, ${url(2 * THUMBNAIL_WIDTH)} 2x`;
    thumbnails.watch(img);
    return img;
  },
};

/**
 * Thumbnails load when their card nears the screen, a few at a time: the server draws
 * pictures one at a time and answers 503 when too many wait, so a long catalogue must
 * not ask for all of them at once. A failed picture is asked for again a little later.
 */
const thumbnails = {
  waiting: [],
  loading: 0,
  observer: new IntersectionObserver(
    (entries) => {
      for (const entry of entries.filter((e) => e.isIntersecting)) {
        thumbnails.observer.unobserve(entry.target);
        thumbnails.enqueue(entry.target);
      }
    },
    { rootMargin: "200px" },
  ),

  watch(img) {
    img.dataset.tries = "0";
    img.addEventListener("load", () => this.settled(img));
    img.addEventListener("error", () => {
      img.removeAttribute("srcset");
      img.removeAttribute("src");
      const tries = Number(img.dataset.tries) + 1;
      img.dataset.tries = String(tries);
      if (tries <= THUMBNAIL_RETRIES) setTimeout(() => this.enqueue(img), THUMBNAIL_RETRY_MS);
      this.settled(img);
    });
    this.observer.observe(img);
  },

  enqueue(img) {
    this.waiting.push(img);
    this.pump();
  },

  settled(img) {
    if (img.dataset.loading !== "1") return; // a later srcset pick (e.g. a zoom) is not one of ours
    delete img.dataset.loading;
    this.loading -= 1;
    this.pump();
  },

  pump() {
    while (this.loading < THUMBNAILS_AT_ONCE && this.waiting.length) {
      const img = this.waiting.shift();
      if (!img.isConnected) continue; // the category filter replaced its card
      this.loading += 1;
      img.dataset.loading = "1";
      img.srcset = img.dataset.srcset;
      img.src = img.dataset.src;
    }
  },
};

// ---------------------------------------------------------------- builder

const builder = {
  items: [], // {exercise_id, work_seconds, rest_seconds}
  dragged: null,

  add(exerciseId) {
    this.items.push({ exercise_id: exerciseId, work_seconds: DEFAULT_WORK_SECONDS, rest_seconds: DEFAULT_REST_SECONDS });
    this.render();
  },

  move(index, by) {
    const target = index + by;
    if (target < 0 || target >= this.items.length) return;
    const [item] = this.items.splice(index, 1);
    this.items.splice(target, 0, item);
    this.render();
  },

  remove(index) {
    this.items.splice(index, 1);
    this.render();
  },

  load(plan) {
    this.items = plan.items.map(({ exercise_id, work_seconds, rest_seconds }) => ({ exercise_id, work_seconds, rest_seconds }));
    $("rounds").value = plan.rounds;
    $("round-rest").value = plan.rest_between_rounds_seconds ?? "";
    $("intensity").value = plan.intensity || "medium";
    $("music").value = plan.music || "";
    if (plan.language) $("language").value = plan.language; // a plan without one keeps the chosen language
    this.render();
  },

  /** The plan as POST /api/plans takes it. Numbers the browser cannot parse go as they are, for the server to name. */
  plan() {
    const number = (text) => (text.trim() === "" || Number.isNaN(Number(text)) ? text : Number(text));
    const plan = {
      items: this.items.map((item) => ({ ...item })),
      rounds: number($("rounds").value),
      intensity: $("intensity").value,
      language: $("language").value, // of the burned-in text; "en" gets the same plan id as leaving it out
    };
    if ($("round-rest").value.trim() !== "") plan.rest_between_rounds_seconds = number($("round-rest").value);
    if ($("music").value) plan.music = $("music").value;
    return plan;
  },

  /** Plan.total_seconds: intro, rounds of work and inner rests with the between-rounds rest, outro. */
  totalSeconds() {
    const plan = this.plan();
    const whole = (value) => (Number.isInteger(value) && value >= 0 ? value : 0);
    if (!plan.items.length) return 0;
    const work = plan.items.reduce((sum, item) => sum + whole(item.work_seconds), 0);
    const innerRest = plan.items.slice(0, -1).reduce((sum, item) => sum + whole(item.rest_seconds), 0);
    const between = whole(plan.rest_between_rounds_seconds ?? plan.items.at(-1).rest_seconds);
    const rounds = Math.max(1, whole(plan.rounds));
    return INTRO_SECONDS + rounds * (work + innerRest) + (rounds - 1) * between + OUTRO_SECONDS;
  },

  updateTotal() {
    $("total-duration").value = clock(this.totalSeconds());
    $("start").disabled = this.items.length === 0;
    $("plan-empty").hidden = this.items.length > 0;
  },

  secondsInput(item, field, label, min) {
    const input = element("input", {
      type: "number", min, max: MAX_INTERVAL_SECONDS, step: 1, value: item[field], inputmode: "numeric",
    });
    input.dataset.field = field;
    input.addEventListener("input", () => {
      item[field] = input.value.trim() === "" || Number.isNaN(Number(input.value)) ? input.value : Number(input.value);
      this.updateTotal();
    });
    return element("label", { className: "seconds" }, [label, input]);
  },

  row(item, index) {
    const button = (text, title, action, disabled = false) => {
      const node = element("button", { type: "button", textContent: text, title, disabled });
      node.setAttribute("aria-label", title);
      node.addEventListener("click", action);
      return node;
    };
    const li = element("li", { className: "plan-item", draggable: true }, [
      element("span", { className: "handle", textContent: "⠿", title: "Drag to reorder" }),
      element("span", { className: "item-name", textContent: catalogue.name(item.exercise_id) }),
      this.secondsInput(item, "work_seconds", "Work s", 1),
      this.secondsInput(item, "rest_seconds", "Rest s", 0),
      element("span", { className: "item-buttons" }, [
        button("↑", "Move up", () => this.move(index, -1), index === 0),
        button("↓", "Move down", () => this.move(index, 1), index === this.items.length - 1),
        button("✕", "Remove", () => this.remove(index)),
      ]),
    ]);
    li.dataset.exerciseId = item.exercise_id;
    li.addEventListener("dragstart", (event) => {
      this.dragged = index;
      event.dataTransfer.effectAllowed = "move";
    });
    li.addEventListener("dragover", (event) => event.preventDefault());
    li.addEventListener("drop", (event) => {
      event.preventDefault();
      if (this.dragged !== null && this.dragged !== index) this.move(this.dragged, index - this.dragged);
      this.dragged = null;
    });
    return li;
  },

  render() {
    $("plan-items").replaceChildren(...this.items.map((item, index) => this.row(item, index)));
    $("plan-errors").replaceChildren();
    this.updateTotal();
  },

  /** Mark the inputs a 422 names (["items", i, field] or [field]) so the user sees where. */
  markInvalid(error) {
    for (const field of error.fields || []) {
      const [first, index, name] = field.loc || [];
      let input = null;
      if (first === "items" && Number.isInteger(index)) {
        input = $("plan-items").children[index]?.querySelector(`[data-field="${name}"]`) ?? $("plan-items").children[index];
      } else {
        input = {
          rounds: $("rounds"), rest_between_rounds_seconds: $("round-rest"), intensity: $("intensity"), music: $("music"),
          language: $("language"),
        }[first];
      }
      input?.setAttribute("aria-invalid", "true");
    }
  },

  async loadMusic() {
    const { music } = await api("/api/music");
    $("music").append(...music.map((track) => element("option", { value: track.id, textContent: track.name })));
  },

  wire() {
    for (const id of ["rounds", "round-rest", "intensity", "music"]) $(id).addEventListener("input", () => this.updateTotal());
    $("start").addEventListener("click", () => player.start(this.plan()));
    this.render();
  },
};

// ---------------------------------------------------------------- generator

const generator = {
  async generate(text) {
    const status = $("generator-status");
    const explanation = $("generator-explanation");
    status.textContent = "Generating…";
    explanation.replaceChildren();
    $("generator-submit").disabled = true;
    try {
      const generated = await api("/api/generate-training", { json: { text } });
      builder.load(generated.plan);
      status.textContent = `Loaded a ${clock(Math.round(generated.duration_seconds))} workout into the builder.`;
      explanation.replaceChildren(...generated.explanation.map((line) => element("li", { textContent: line })));
    } catch (error) {
      status.textContent = describeError(error).join("; ");
    } finally {
      $("generator-submit").disabled = false;
    }
  },

  wire() {
    $("generator-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.generate($("generator-text").value);
    });
  },
};

// ---------------------------------------------------------------- player

const player = {
  hls: null,
  hlsLoading: null,

  /** hls.js from this server, loaded on first use: window.Hls, or null when the server has none. */
  loadHls() {
    this.hlsLoading ??= new Promise((resolve) => {
      if (window.Hls) return resolve(window.Hls);
      const script = element("script", { src: HLSJS_URL });
      script.addEventListener("load", () => resolve(window.Hls ?? null));
      script.addEventListener("error", () => resolve(null));
      document.head.append(script);
    });
    return this.hlsLoading;
  },

  setState(state, message) {
    $("player").dataset.state = state;
    $("player-status").textContent = message;
    $("player-status").classList.toggle("error", state === "error" || state === "unsupported");
  },

  async start(plan) {
    const errors = $("plan-errors");
    errors.replaceChildren();
    document.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    $("start").disabled = true;
    try {
      const created = await api("/api/plans", { json: plan });
      await this.play(created);
    } catch (error) {
      showErrors(errors, error);
      builder.markInvalid(error);
    } finally {
      $("start").disabled = builder.items.length === 0;
    }
  },

  async play(created) {
    $("player").hidden = false;
    $("playlist-url").value = created.playlist_url;
    $("fmp4-url").value = created.fmp4_playlist_url;
    const video = $("video");
    this.hls?.destroy();
    this.hls = null;
    this.setState("loading", `Loading ${clock(Math.round(created.duration_seconds))} of workout…`);
    const Hls = await this.loadHls();
    if (Hls && Hls.isSupported()) {
      this.hls = new Hls();
      this.hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) this.setState("error", `Playback stopped: ${data.type} / ${data.details}. Try the playlist URL in VLC.`);
      });
      this.hls.loadSource(created.playlist_url);
      this.hls.attachMedia(video);
    } else if (video.canPlayType(HLS_MIME)) {
      video.src = created.playlist_url; // Safari and iOS play HLS themselves
    } else {
      const fix = Hls ? "" : " The server has no hls.js: run `npm ci --omit=dev` in its directory (or set HLS_HLSJS_PATH).";
      this.setState("unsupported", `This browser cannot play HLS here.${fix} Open the playlist URL below in VLC.`);
      return;
    }
    video.addEventListener("playing", () => this.setState("playing", "Playing."), { once: true });
    video.scrollIntoView({ behavior: "smooth", block: "center" });
    video.play().catch(() => this.setState("ready", "Press play to start."));
  },

  wire() {
    for (const button of document.querySelectorAll("button.copy")) {
      button.addEventListener("click", async () => {
        const input = $(button.dataset.copy);
        input.select();
        try {
          await navigator.clipboard.writeText(input.value);
          button.textContent = "Copied";
        } catch {
          button.textContent = "Select + copy";
        }
        setTimeout(() => { button.textContent = "Copy"; }, 2000);
      });
    }
    $("video").addEventListener("error", () => {
      const error = $("video").error;
      if (error) this.setState("error", `The browser could not play the stream (${error.message || `code ${error.code}`}).`);
    });
  },
};

// ---------------------------------------------------------------- start-up

builder.wire();
generator.wire();
player.wire();
$("category-filter").addEventListener("change", (event) => catalogue.load(event.target.value));
await Promise.all([catalogue.load(), catalogue.loadCategories(), builder.loadMusic()]).catch((error) => {
  $("catalogue-status").textContent = `Could not reach the server: ${error.message}`;
});
document.body.dataset.ready = "true";
