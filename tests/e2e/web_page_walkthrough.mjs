// Walk through the web page in headless Chromium as a user would, and print one JSON report.
//
//   node tests/e2e/web_page_walkthrough.mjs <base-url> <screenshot-dir>
//
// Desktop: the catalogue's thumbnails load, two exercises are added, given 6 s work / 3 s rest (after
// a refused 0 s, whose 422 is shown), reordered, set to high intensity, started, and played until the video has advanced 3 s;
// then Français is chosen and the workout started again (a French plan is posted); then a sentence fills
// the builder. Phone (390x844): the page fits the width and its buttons are touch sized. Without hls.js
// (its URL answering 404) the page falls back to the browser's own HLS or explains what to install.
// Screenshots go to <screenshot-dir> and, when HLS_SCREENSHOT_DIR is set, there too.
// The test (test_web_page.py) judges the report; this script only records what happened.

import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.HLS_CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const WAIT_MS = 60_000;
const PLAY_WAIT_MS = 90_000;
const PLAYED_SECONDS = 3;
const WORK_SECONDS = "6";
const REST_SECONDS = "3";
const SENTENCE = "20 min low-impact legs, beginner";
const TOUCH_PIXELS = 44;
const BUDGET_MS = Number(process.env.WALKTHROUGH_BUDGET_MS || 240_000); // below the test's own timeout

const [baseUrl, screenshotDir] = process.argv.slice(2);
if (!baseUrl || !screenshotDir) {
  console.error("usage: node web_page_walkthrough.mjs <base-url> <screenshot-dir>");
  process.exit(2);
}
const report = { baseUrl, consoleErrors: [], failedRequests: [], screenshots: [], steps: [] };
const started = Date.now();
let phase = ""; // while set, console errors and failed requests are expected ones, labelled "<page>/<phase>"

function step(name) {
  report.steps.push({ name, seconds: (Date.now() - started) / 1000 });
}

function watch(page, label) {
  const where = () => (phase ? `${label}/${phase}` : label);
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      report.consoleErrors.push(`${where()}: ${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => report.consoleErrors.push(`${where()}: exception: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400) report.failedRequests.push(`${where()}: ${response.status()} ${response.url()}`);
  });
}

/** Print what happened so far and stop: the harness would otherwise kill us with nothing to show. */
function finish(error) {
  if (error) report.error = `${String(error.stack || error)} (after steps ${report.steps.map((s) => s.name).join(", ")})`;
  report.seconds = (Date.now() - started) / 1000;
  console.log(JSON.stringify(report));
  process.exit(report.error ? 1 : 0);
}

async function screenshot(page, name, fullPage) {
  const path = join(screenshotDir, name);
  await page.screenshot({ path, fullPage });
  report.screenshots.push(path);
  if (process.env.HLS_SCREENSHOT_DIR) {
    mkdirSync(process.env.HLS_SCREENSHOT_DIR, { recursive: true });
    copyFileSync(path, join(process.env.HLS_SCREENSHOT_DIR, name));
  }
}

/** Scroll every thumbnail into view (they load near the screen) and wait until each has decoded. */
async function thumbnailsLoaded(page) {
  const images = page.locator("#exercise-list img");
  const count = await images.count();
  for (let index = 0; index < count; index += 1) {
    await images.nth(index).scrollIntoViewIfNeeded();
    await images.nth(index).evaluate(
      (img) => new Promise((resolve, reject) => {
        if (img.complete && img.naturalWidth > 0) return resolve();
        img.addEventListener("load", resolve, { once: true });
        setTimeout(() => reject(new Error(`thumbnail ${img.dataset.src} did not load`)), 45_000);
      }),
    );
  }
  return page.$$eval("#exercise-list img", (all) => all.map((img) => ({ src: img.currentSrc, width: img.naturalWidth })));
}

/** The stored plan behind a playlist URL the page shows, as the server keeps it. */
const postedPlan = (page, playlistUrl) =>
  page.evaluate(async (url) => {
    const id = url.split("/hls/")[1].split("/")[0];
    return (await (await fetch(`/api/plans/${id}`)).json()).plan;
  }, playlistUrl);

const planOrder = (page) => page.$$eval("#plan-items li", (items) => items.map((item) => item.dataset.exerciseId));

async function desktop(browser) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  watch(page, "desktop");
  await page.goto(`${baseUrl}/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
  report.thumbnails = await thumbnailsLoaded(page);
  step("catalogue");

  const cards = page.locator("#exercise-list button.card:not([disabled])");
  const picked = [await cards.nth(0).getAttribute("data-exercise-id"), await cards.nth(1).getAttribute("data-exercise-id")];
  await cards.nth(0).click();
  await cards.nth(1).click();
  for (const input of await page.locator('#plan-items [data-field="work_seconds"]').all()) await input.fill(WORK_SECONDS);
  for (const input of await page.locator('#plan-items [data-field="rest_seconds"]').all()) await input.fill(REST_SECONDS);
  report.picked = picked;

  const firstWork = page.locator('#plan-items [data-field="work_seconds"]').first();
  await firstWork.fill("0"); // refused by the server: its 422 must be shown field by field
  phase = "invalid";
  await page.click("#start");
  await page.waitForSelector("#plan-errors li", { timeout: WAIT_MS });
  phase = "";
  report.invalid = {
    lines: await page.locator("#plan-errors li").allTextContents(),
    markedInput: await firstWork.getAttribute("aria-invalid"),
    playerShown: await page.locator("#player").isVisible(),
  };
  await firstWork.fill(WORK_SECONDS);
  report.orderBefore = await planOrder(page);
  await page.locator("#plan-items li").first().getByRole("button", { name: "Move down" }).click();
  report.orderAfter = await planOrder(page);
  await page.selectOption("#intensity", "high");
  report.builtTotal = await page.locator("#total-duration").textContent();
  step("builder");

  const hlsjsResponse = page.waitForResponse((response) => response.url().endsWith("/vendor/hls.min.js"));
  await page.click("#start");
  report.hlsjsStatus = (await hlsjsResponse).status();
  const playing = page.waitForFunction(
    (seconds) => {
      const state = document.querySelector("#player").dataset.state;
      return state === "error" || state === "unsupported" || document.querySelector("#video").currentTime >= seconds;
    },
    PLAYED_SECONDS,
    { timeout: PLAY_WAIT_MS, polling: 250 },
  );
  await playing.catch(() => {}); // judged below from what the page shows
  report.playback = await page.evaluate(() => {
    const video = document.querySelector("#video");
    return {
      state: document.querySelector("#player").dataset.state,
      status: document.querySelector("#player-status").textContent,
      currentTime: video.currentTime,
      mediaSource: video.src.startsWith("blob:"),
      videoWidth: video.videoWidth,
      readyState: video.readyState,
      paused: video.paused,
      buffered: Array.from({ length: video.buffered.length }, (_, i) => [video.buffered.start(i), video.buffered.end(i)]),
      playlistUrl: document.querySelector("#playlist-url").value,
      fmp4Url: document.querySelector("#fmp4-url").value,
    };
  });
  report.postedPlan = await postedPlan(page, report.playback.playlistUrl);
  step("played");
  await screenshot(page, "web-page.png", true);

  await page.selectOption("#language", "fr");
  await page.click("#start");
  await page.waitForFunction(
    (previous) => document.querySelector("#playlist-url").value !== previous,
    report.playback.playlistUrl,
    { timeout: WAIT_MS },
  );
  const frenchUrl = await page.locator("#playlist-url").inputValue();
  report.french = { playlistUrl: frenchUrl, plan: await postedPlan(page, frenchUrl) };
  step("french");

  await page.fill("#generator-text", SENTENCE);
  await page.click("#generator-submit");
  await page.waitForFunction(() => /Loaded|rror|not/.test(document.querySelector("#generator-status").textContent), null, {
    timeout: WAIT_MS,
  });
  report.generator = {
    status: await page.locator("#generator-status").textContent(),
    items: await planOrder(page),
    total: await page.locator("#total-duration").textContent(),
    explanation: await page.locator("#generator-explanation li").count(),
  };
  step("generator");
  await context.close();
}

/**
 * With /vendor/hls.min.js answering 404 the page must use the browser's own HLS, or say how to fix it.
 * Chromium plays HLS itself nowadays; `hideNativeHls` makes it answer "" to canPlayType, like Firefox.
 */
async function withoutHlsjs(browser, hideNativeHls) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  watch(page, "fallback"); // every error here is expected: hls.js is withheld
  if (hideNativeHls) await page.addInitScript(() => { HTMLMediaElement.prototype.canPlayType = () => ""; });
  await page.route("**/vendor/hls.min.js", (route) =>
    route.fulfill({ status: 404, contentType: "application/json", body: '{"error": "not_found", "detail": "test"}' }),
  );
  await page.goto(`${baseUrl}/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
  await page.locator("#exercise-list button.card:not([disabled])").first().click();
  await page.click("#start");
  await page.waitForFunction(
    () => ["unsupported", "playing", "ready", "error"].includes(document.querySelector("#player").dataset.state)
      || document.querySelector("#video").src !== "",
    null,
    { timeout: WAIT_MS },
  );
  report[hideNativeHls ? "noHls" : "nativeHls"] = await page.evaluate((mime) => {
    const video = document.querySelector("#video");
    return {
      canPlayHls: video.canPlayType(mime),
      state: document.querySelector("#player").dataset.state,
      status: document.querySelector("#player-status").textContent,
      videoSrc: video.src,
      playlistUrl: document.querySelector("#playlist-url").value,
    };
  }, "application/vnd.apple.mpegurl");
  step(hideNativeHls ? "no-hls" : "native-hls");
  await context.close();
}

async function phone(browser) {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  watch(page, "phone");
  await page.goto(`${baseUrl}/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: WAIT_MS });
  await thumbnailsLoaded(page);
  const cards = page.locator("#exercise-list button.card:not([disabled])");
  await cards.nth(0).tap();
  await cards.nth(1).tap();
  await page.locator("#builder").scrollIntoViewIfNeeded();
  report.phone = await page.evaluate((touch) => {
    const small = [...document.querySelectorAll("button, input, select")]
      .filter((node) => node.offsetParent !== null)
      .filter((node) => node.getBoundingClientRect().height < touch)
      .map((node) => node.id || node.textContent || node.outerHTML.slice(0, 60));
    return {
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      smallTargets: small,
      items: document.querySelectorAll("#plan-items li").length,
    };
  }, TOUCH_PIXELS);
  step("phone");
  await screenshot(page, "web-page-phone.png", false);
  await context.close();
}

mkdirSync(screenshotDir, { recursive: true });
setTimeout(() => finish(new Error(`over the ${BUDGET_MS / 1000} s budget`)), BUDGET_MS).unref();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
let failure = null;
try {
  await desktop(browser);
  await withoutHlsjs(browser, false);
  await withoutHlsjs(browser, true);
  await phone(browser);
} catch (error) {
  failure = error;
} finally {
  await browser.close();
}
finish(failure);
