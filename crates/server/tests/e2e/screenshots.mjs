// The README's screenshots (scripts/screenshots.sh): every screen of the console — sign-in, the
// queue, a ticket, and each page the views pane links to (the dashboard, the profile and every
// admin page) — in English and Spanish, light and dark, from a demo desk seeded by
// `growdesk-bench seed`. The seed's people get invented names here (through the API), its
// categories colours, and the desk a widget and a webhook, so that no screen is empty. Written
// as WebP (Chromium's own encoder, through the DevTools protocol) into $OUT, and as PNG into
// $PNG_OUT when it is set, to look at.
import { mkdir, writeFile } from "node:fs/promises";
import { check, launch } from "./browser.mjs";

const { BASE, OUT, PNG_OUT, ADMIN_EMAIL, PASSWORD } = process.env;
const QUALITY = Number(process.env.QUALITY ?? 72);
const VARIANTS = [
  ["en", "light"],
  ["en", "dark"],
  ["es", "light"],
  ["es", "dark"],
];
const FIRST = ["Ana", "Leo", "Marta", "Tomás", "Lucía", "Omar", "Noa", "Iván", "Sara", "Hugo", "Elena", "Pablo", "Irene", "Jon", "Nuria", "Dani", "Julia", "Álex", "Carmen", "Raúl", "Emma", "Mateo", "Laura", "Adrián"];
const LAST = ["García", "Ruiz", "Navarro", "Ortega", "Castro", "Molina", "Serrano", "Blanco", "Iglesias", "Vidal", "Campos", "Prieto", "Santos", "Lozano", "Pastor", "Herrera"];
const COLOURS = ["#1d4ed8", "#047857", "#b45309", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#c2410c", "#6d28d9", "#0f766e", "#a21caf", "#374151"];

async function call(token, method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

async function all(token, path) {
  const items = [];
  let cursor = null;
  do {
    const page = await call(token, "GET", `${path}${path.includes("?") ? "&" : "?"}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

// The demo desk: people with names, categories with colours, a widget, a webhook.
const signedIn = await fetch(`${BASE}/api/auth/login`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ email: ADMIN_EMAIL, password: PASSWORD }),
});
check(signedIn.ok, `the admin signs in: ${signedIn.status}`);
const admin = (await signedIn.json()).access_token;
await call(admin, "PATCH", "/api/auth/me", { name: "Irene Solís" });
const users = (await all(admin, "/api/users")).filter((user) => user.email.endsWith("@bench.growdesk.test"));
for (const [index, user] of users.entries()) {
  const name = `${FIRST[(index * 7) % FIRST.length]} ${LAST[(index * 5 + Math.floor(index / FIRST.length)) % LAST.length]}`;
  await call(admin, "PATCH", `/api/users/${user.id}`, { name });
}
for (const [index, category] of (await all(admin, "/api/categories")).entries()) {
  const name = category.name.charAt(0).toUpperCase() + category.name.slice(1);
  await call(admin, "PATCH", `/api/categories/${category.id}`, { name, color: COLOURS[index % COLOURS.length] });
}
if ((await call(admin, "GET", "/api/widgets")).items.length === 0) {
  await call(admin, "POST", "/api/widgets", { name: "Shop", allowed_origins: ["https://shop.example.com"] });
}
if ((await call(admin, "GET", "/api/webhooks")).items.length === 0) {
  await call(admin, "POST", "/api/webhooks", { url: "https://93.184.215.14/hooks/growdesk", event_types: ["*"] });
}

await mkdir(OUT, { recursive: true });
if (PNG_OUT) await mkdir(PNG_OUT, { recursive: true });
const browser = await launch();
const written = [];
try {
  for (const [language, theme] of VARIANTS) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: language === "es" ? "es-ES" : "en-US", colorScheme: theme, timezoneId: "Europe/Madrid" });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    // Quiet: no request of the page's in flight for a moment, so every list has arrived.
    let inFlight = 0;
    page.on("request", () => (inFlight += 1));
    page.on("requestfinished", () => (inFlight -= 1));
    page.on("requestfailed", () => (inFlight -= 1));
    const quiet = async () => {
      let still = 0;
      while (still < 3) {
        await page.waitForTimeout(100);
        still = inFlight === 0 ? still + 1 : 0;
      }
    };
    const shoot = async (screen) => {
      await quiet();
      const { data } = await cdp.send("Page.captureScreenshot", { format: "webp", quality: QUALITY });
      const name = `${screen}-${language}-${theme}`;
      await writeFile(`${OUT}/${name}.webp`, Buffer.from(data, "base64"));
      if (PNG_OUT) await page.screenshot({ path: `${PNG_OUT}/${name}.png` });
      written.push(name);
    };

    await page.goto(`${BASE}/views/open`);
    await page.locator("#sign-in-email").waitFor();
    await shoot("sign-in");
    await page.locator("#sign-in-email").fill(ADMIN_EMAIL);
    await page.locator("#sign-in-password").fill(PASSWORD);
    await page.locator("#sign-in-password").press("Enter");
    await page.locator('#ticket-list [role="option"]').first().waitFor();
    await shoot("queue");
    await page.locator('#ticket-list [role="option"]').first().click();
    await page.locator(".thread .message").first().waitFor();
    await page.mouse.move(0, 0);
    await shoot("ticket");
    const links = page.locator(".views .page-link a");
    const count = await links.count();
    for (let index = 0; index < count; index += 1) {
      const link = links.nth(index);
      const screen = (await link.getAttribute("href")).split("/").pop();
      await link.click();
      await page.getByRole("heading", { level: 1 }).first().waitFor();
      await shoot(screen);
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(`${written.length} screenshots in ${OUT}: ${written.join(", ")}`);
