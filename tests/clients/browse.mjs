// Opens the index and a day page in Debian's Chromium (headless, driven by playwright-core;
// no browser download) and prints what a reader would see as JSON.
// usage: node browse.mjs BASE_URL DAY_PATH SCREENSHOT_PATH
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, dayPath, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const profile = mkdtempSync(join(tmpdir(), "digest-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1200, height: 900 },
});
const out = { versions: { "playwright-core": JSON.parse(readFileSync(new URL("./node_modules/playwright-core/package.json", import.meta.url))).version,
                          chromium: context.browser()?.version() ?? null }, pages: {} };
try {
  for (const [name, path] of [["index", "/"], ["day", dayPath]]) {
    const page = await context.newPage();
    const console_ = [], errors = [], failed = [], dialogs = [];
    page.on("console", (m) => console_.push({ type: m.type(), text: m.text(), url: m.location()?.url ?? null }));
    page.on("pageerror", (e) => errors.push(String(e)));
    const statuses = [];
    page.on("requestfailed", (r) => failed.push(r.url()));
    page.on("response", (r) => { if (r.status() >= 400) statuses.push({ url: r.url(), status: r.status() }); });
    page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    const resp = await page.goto(base + path, { waitUntil: "load" });
    await page.waitForTimeout(300);  // let any late script or image error fire
    const seen = await page.evaluate(() => {
      const visible = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
      const links = [...document.querySelectorAll("head link[rel=alternate]")]
        .map((l) => ({ type: l.type, href: l.href, title: l.title }));
      const articles = [...document.querySelectorAll("article")];
      return {
        title: document.title,
        h1: document.querySelector("h1")?.innerText ?? null,
        stylesheetLoaded: [...document.styleSheets].some((s) => { try { return s.cssRules.length > 0; } catch { return false; } }),
        feedLinks: links,
        summaryVisible: visible(document.getElementById("summary")),
        summaryText: document.getElementById("summary")?.innerText ?? null,
        articles: articles.map((a) => ({
          id: a.id, visible: visible(a), title: a.querySelector("h2")?.innerText ?? "",
          text: a.innerText,
          findingsVisible: [...a.querySelectorAll("li, p, blockquote")].some((el) => visible(el) && /关键发现|Key finding/.test(el.innerText)),
        })),
        scripts: document.scripts.length,
        handlers: [...document.querySelectorAll("*")].flatMap((el) =>
          [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName}[${a.name}]`)),
        images: [...document.images].map((i) => i.getAttribute("src")),
        pwned: window.__pwned ?? null,
      };
    });
    if (name === "day" && screenshot) {  // the summary, the contents and the first papers
      await page.screenshot({ path: screenshot, fullPage: true, clip: { x: 0, y: 0, width: 1200, height: 2000 } });
    }
    out.pages[name] = { status: resp.status(), csp: resp.headers()["content-security-policy"] ?? null,
                        console: console_, pageErrors: errors, failedRequests: failed, errorResponses: statuses, dialogs, ...seen };
    await page.close();
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out));
