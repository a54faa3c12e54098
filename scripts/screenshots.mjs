// Screenshots of pages of a running service, for the README (Debian's Chromium driven by
// playwright-core from tests/clients/node_modules).
// usage: node scripts/screenshots.mjs BASE_URL PATH=OUT.png [PATH=OUT.png ...]
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(new URL("../tests/clients/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const [base, ...shots] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "digest-shots-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1100, height: 1400 },
});
try {
  for (const shot of shots) {
    const [path, out] = shot.split("=");
    const page = await context.newPage();
    const resp = await page.goto(base + path, { waitUntil: "load" });
    if (!resp || resp.status() !== 200) throw new Error(`${path}: HTTP ${resp && resp.status()}`);
    await page.screenshot({ path: out });
    console.log(`${out} <- ${path}`);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
