// What the console's browser tests share: the API as a given token, Chromium, screenshots named
// after $BACKEND in $ARTIFACTS, axe-core, and signing in through the console's form.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const { BASE, ARTIFACTS, BACKEND } = process.env;
const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

export async function api(token, method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return response.json();
}

/**
 * How long any wait may take before the test fails: generous, because CI runs these beside
 * other suites on two cores, and a wait ends as soon as what it waits for holds.
 */
export const PATIENCE = 120_000;

/** Debian's Chromium, headless; every context it opens waits with `PATIENCE`. */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.setDefaultTimeout(PATIENCE);
    return context;
  };
  return browser;
}

/** Waits until `holds` answers true, asking again every tenth of a second, for `PATIENCE` at most. */
export async function eventually(holds, what) {
  for (const deadline = Date.now() + PATIENCE; Date.now() < deadline; ) {
    if (await holds()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`never: ${what}`);
}

/** A screenshot in $ARTIFACTS as `<prefix>-<backend>-<name>.png`. */
export const shot = (page, prefix, name) => page.screenshot({ path: `${ARTIFACTS}/${prefix}-${BACKEND}-${name}.png` });

/** axe-core on the page as it is: no serious or critical violation. */
export async function accessible(page, screen) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document)).violations);
  const bad = violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  check(bad.length === 0, `axe on ${screen}: ${JSON.stringify(bad.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target).slice(0, 3) })))}`);
}

export async function signIn(page, email, password) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Views" }).waitFor();
}

/** Collects what the page reports about its Content-Security-Policy and its uncaught errors. */
export function watchPolicy(page, into) {
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) into.push(message.text());
  });
  page.on("pageerror", (error) => into.push(`page error: ${error.message}`));
}
