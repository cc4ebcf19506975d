// The console page in a real browser (Debian chromium driven by playwright-core) against a
// real `thumbflow serve`: log in, drop three corpus images (one under a hostile name) and a
// corrupt file, watch three thumbnails and one failure arrive without a reload, open a detail,
// retry the failure, delete an image; the hostile name shows as text and no script dialog
// fires. Saves a screenshot of the gallery into the build folder.
//
// node console_browser_test.mjs   (env: THUMBFLOW_EXE, THUMBFLOW_CORPUS_DIR, THUMBFLOW_ARTIFACT_DIR)
// Exit 0 on success, 1 on failure, 77 when chromium or playwright-core is missing (CTest skip).
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const exe = process.env.THUMBFLOW_EXE;
const corpus = process.env.THUMBFLOW_CORPUS_DIR;
const artifacts = process.env.THUMBFLOW_ARTIFACT_DIR || os.tmpdir();
const chromiumPath = process.env.THUMBFLOW_CHROMIUM || "/usr/bin/chromium";
const HOSTILE = "<img src=x onerror=alert(1)>.jpg";
const TOKEN = "browser-test-console-token-0123456789";

let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch (e) {
  console.log("SKIP: playwright-core is not installed (scripts/install-deps runs npm ci in tests/)");
  process.exit(77);
}
if (!fs.existsSync(chromiumPath)) {
  console.log("SKIP: " + chromiumPath + " is not installed (scripts/install-deps installs chromium)");
  process.exit(77);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitFor(what, pred, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (await pred()) return;
    } catch (e) {
      /* not yet */
    }
    if (Date.now() > until) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const started = Date.now();
const step = (text) => console.log(((Date.now() - started) / 1000).toFixed(1).padStart(5) + "s  " + text);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "thumbflow-console-browser-"));
const s3Port = await freePort();
const consolePort = await freePort();
const base = "http://127.0.0.1:" + consolePort;
const serverLog = fs.openSync(path.join(tmp, "serve.log"), "w");
const server = spawn(
  exe,
  ["serve", "--data", path.join(tmp, "data"), "--s3-listen", "127.0.0.1:" + s3Port, "--console-listen", "127.0.0.1:" + consolePort],
  {
    env: Object.assign({}, process.env, {
      THUMBFLOW_CONSOLE_TOKEN: TOKEN,
      THUMBFLOW_ACCESS_KEY: "BROWSERTESTKEY00",
      THUMBFLOW_SECRET_KEY: "browser-test-secret-000000000000000000000",
      THUMBFLOW_WORKERS_MAX: "2",
    }),
    stdio: ["ignore", serverLog, serverLog],
  }
);
let browser;
let failed = false;
try {
  await waitFor("the console to answer", async () => (await fetch(base + "/healthz")).ok, 20000);
  step("serve is up on " + base);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.type() + ": " + d.message());
    if (d.type() === "confirm") await d.accept();
    else await d.dismiss();
  });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    // The wrong token on purpose answers 401; anything else failing to load is an error.
    if (m.type() === "error" && !m.text().includes("status of 401")) pageErrors.push("console: " + m.text());
  });

  // Log in through the form.
  await page.goto(base + "/");
  step("login form loaded");
  if (!page.url().endsWith("/login")) throw new Error("expected the login form, got " + page.url());
  await page.fill("#token", "not-the-token");
  await page.click("button[type=submit]");
  await page.waitForSelector("#login-error", { state: "visible" });
  step("wrong token refused");
  await page.fill("#token", TOKEN);
  await Promise.all([page.waitForURL(base + "/"), page.click("button[type=submit]")]);
  step("page loaded");
  await page.waitForSelector("#live.on");
  step("logged in; live updates connected");
  let navigations = 0;
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame()) navigations++;
  });

  // Drop three corpus images (one under a hostile name) and one corrupt file.
  const read = (name) => fs.readFileSync(path.join(corpus, name)).toString("base64");
  const files = [
    { name: "mate_FreshFlower.jpg", type: "image/jpeg", b64: read("mate_FreshFlower.jpg") },
    { name: "debian_spacefun_background.png", type: "image/png", b64: read("debian_spacefun_background.png") },
    { name: HOSTILE, type: "image/jpeg", b64: read("plasma_FallenLeaf_screenshot.jpg") },
    { name: "corrupt.jpg", type: "image/jpeg", b64: Buffer.from("\xff\xd8\xff\xe0 this is not a JPEG at all", "latin1").toString("base64") },
  ];
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const drop = document.getElementById("drop");
    drop.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, bubbles: true, cancelable: true }));
    drop.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
  step("dropped 4 files");
  await waitFor("four finished upload bars", async () => (await page.locator(".upload-row.done").count()) === 4, 15000);
  await waitFor(
    "three thumbnails and one failure",
    async () =>
      (await page.locator(".card.processed img.loaded").count()) === 3 && (await page.locator(".card.failed").count()) === 1,
    30000
  );
  if (navigations !== 0) throw new Error("the page reloaded " + navigations + " time(s)");
  step("three thumbnails and one failure arrived without a reload");

  // The hostile name is text, and nothing it says became an element.
  const hostileCards = await page.locator(".card .name").filter({ hasText: HOSTILE }).count();
  if (hostileCards !== 1) throw new Error("the hostile name is not shown as text (" + hostileCards + " cards)");
  const injected = await page.evaluate(() => document.querySelectorAll('img[src="x"], img[onerror]').length);
  if (injected !== 0) throw new Error("the hostile name became markup");
  const reason = await page.locator(".card.failed .reason").textContent();
  if (!/corrupt|unsupported/.test(reason)) throw new Error("the failure shows no reason: " + reason);
  // Every placeholder was painted from the record's BlurHash before its thumbnail loaded.
  const painted = await page.evaluate(() =>
    [...document.querySelectorAll(".card.processed canvas.placeholder")].filter((c) => c.width === 32).length
  );
  if (painted !== 3) throw new Error("BlurHash placeholders painted: " + painted);
  fs.mkdirSync(artifacts, { recursive: true });
  const shot = path.join(artifacts, "console-gallery.png");
  await page.screenshot({ path: shot, fullPage: true });
  step("screenshot " + shot);

  // The detail view of a processed image.
  await page.locator(".card.processed .card-open").filter({ hasText: "mate_FreshFlower.jpg" }).click();
  await page.waitForSelector("#detail[open]");
  const meta = await page.locator("#detail-meta").textContent();
  if (!meta.includes("Dimensions") || !meta.includes("jpeg")) throw new Error("detail lacks dimensions or format: " + meta);
  if ((await page.locator("#detail-renditions a").count()) < 1) throw new Error("detail lists no rendition");
  const originalHref = await page.getAttribute("#detail-original", "href");
  const original = await page.evaluate(async (href) => (await fetch(href)).status, originalHref);
  if (original !== 200) throw new Error("the original link answered " + original);
  await page.keyboard.press("Escape");
  await page.waitForSelector("#detail[open]", { state: "detached" }).catch(() => {});
  await waitFor("the detail to close", async () => !(await page.locator("#detail").evaluate((d) => d.open)), 5000);
  step("detail view shown and closed with Escape");

  // Retry the failure: it is queued, processed again and fails again (the bytes are corrupt).
  const failedId = await page.locator(".card.failed").getAttribute("data-id");
  const before = await page.evaluate(async (id) => (await (await fetch("/api/images/" + id)).json()).updatedAt, failedId);
  await page.locator(".card.failed .retry").click();
  await waitFor(
    "the retried failure to come back",
    async () => {
      const after = await page.evaluate(async (id) => (await (await fetch("/api/images/" + id)).json()).updatedAt, failedId);
      return after !== before && (await page.locator('.card.failed[data-id="' + failedId + '"]').count()) === 1;
    },
    20000
  );
  step("retried the failure; it came back failed, live");

  // Delete the image with the hostile name from its detail view.
  await page.locator(".card .card-open").filter({ hasText: HOSTILE }).click();
  await page.waitForSelector("#detail[open]");
  const title = await page.locator("#detail-title").textContent();
  if (title !== HOSTILE) throw new Error("detail title is not the name as text: " + title);
  const deletedId = await page.locator(".card").filter({ hasText: HOSTILE }).getAttribute("data-id");
  await page.click("#detail-delete");
  await waitFor("the deleted card to go", async () => (await page.locator(".card").filter({ hasText: HOSTILE }).count()) === 0, 10000);
  // (From node: the page would log the expected 404 as a console error.)
  const gone = (await fetch(base + "/api/images/" + deletedId, { headers: { Authorization: "Bearer " + TOKEN } })).status;
  if (gone !== 404) throw new Error("the deleted image still answers " + gone);
  step("deleted an image");

  // The keyboard: Enter on a card opens its detail. The file picker: its file is uploaded and
  // processed like a dropped one.
  await page.locator(".card.processed .card-open").first().focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("#detail[open]");
  await page.keyboard.press("Escape");
  await waitFor("the detail to close", async () => !(await page.locator("#detail").evaluate((d) => d.open)), 5000);
  // (The picker is opened with a click: headless chromium does not always raise the chooser
  // for a key press; the "choose files" control is a native button, focusable and activated
  // by Enter and Space like any other.)
  if ((await page.evaluate(() => document.getElementById("pick").tagName)) !== "BUTTON")
    throw new Error("the file picker control is not a button");
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click("#pick")]);
  await chooser.setFiles(path.join(corpus, "gnome_wood-l.webp"));
  await waitFor(
    "the picked file's thumbnail",
    async () => (await page.locator(".card.processed img.loaded").filter({ hasNot: page.locator("xx") }).count()) === 3 &&
      (await page.locator(".card .name").filter({ hasText: "gnome_wood-l.webp" }).count()) === 1 &&
      (await page.locator(".card.processed").filter({ hasText: "gnome_wood-l.webp" }).locator("img.loaded").count()) === 1,
    30000
  );
  step("keyboard: detail opened with Enter; a file from the picker processed");

  await page.screenshot({ path: path.join(artifacts, "console-gallery-after.png"), fullPage: true });
  // A phone-sized screen: no horizontal scrolling.
  await page.setViewportSize({ width: 375, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 0) throw new Error("the page scrolls sideways by " + overflow + " px at 375 px wide");
  await page.screenshot({ path: path.join(artifacts, "console-phone.png"), fullPage: true });

  const alerts = dialogs.filter((d) => !d.startsWith("confirm"));
  if (alerts.length) throw new Error("a script dialog fired: " + alerts.join("; "));
  if (dialogs.length !== 1) throw new Error("expected exactly the delete confirmation, got " + JSON.stringify(dialogs));
  if (pageErrors.length) throw new Error("page errors: " + pageErrors.join("; "));
  step("no dialog but the delete confirmation, no page error; done");
} catch (e) {
  failed = true;
  console.error("FAIL: " + (e && e.stack ? e.stack : e));
  if (browser) {
    try {
      const p = browser.contexts()[0].pages()[0];
      await p.screenshot({ path: path.join(artifacts, "console-failure.png"), fullPage: true });
      console.error("--- cards ---\n" + (await p.locator("#gallery").innerText()));
      console.error("--- uploads ---\n" + (await p.locator("#progress").innerText()));
    } catch (err) {
      /* no page */
    }
  }
  try {
    const log = fs.readFileSync(path.join(tmp, "serve.log"), "utf8").split("\n").filter((l) => !l.includes("] alarm "));
    console.error("--- serve log (tail) ---\n" + log.slice(-40).join("\n"));
  } catch (err) {
    /* no log */
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  server.kill("SIGTERM");
  await new Promise((r) => {
    const t = setTimeout(() => {
      server.kill("SIGKILL");
      r();
    }, 10000);
    server.on("exit", () => {
      clearTimeout(t);
      r();
    });
  });
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
