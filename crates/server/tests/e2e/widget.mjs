// The widget in a real browser (Debian's Chromium, headless, driven by playwright-core):
// a visitor starts a chat on the demo page, an agent replies through the API, and the reply
// appears without a reload; the history survives a reload; a reply sent while the page was
// closed appears when it opens again; axe-core finds no serious violation in the open widget,
// before and during the conversation. Screenshots go to $ARTIFACTS.
import { accessible, check, launch } from "./browser.mjs";

const { BASE, KEY, AGENT_TOKEN, ARTIFACTS } = process.env;
const agent = { Authorization: `Bearer ${AGENT_TOKEN}`, "Content-Type": "application/json" };

async function reply(ticket, body) {
  const response = await fetch(`${BASE}/api/tickets/${ticket}/messages`, { method: "POST", headers: agent, body: JSON.stringify({ body }) });
  check(response.status === 201, `agent reply failed: ${response.status}`);
}

const browser = await launch();
try {
  const context = await browser.newContext();
  let page = await context.newPage();
  const bubble = (text) => page.locator("[data-message-id]").filter({ hasText: text });
  await page.goto(`${BASE}/widget/demo?key=${KEY}`);
  await page.getByRole("button", { name: "Open chat" }).click();
  await page.getByText("Hi! How can we help?").waitFor();
  await accessible(page, "the open widget");
  await page.getByLabel("Your name").fill("Vera Visitor");
  await page.getByLabel("Your email").fill("vera@example.com");
  const hostile = "Where is my order? <img src=x onerror=alert(1)>";
  await page.getByLabel("Your message").fill(hostile);
  await page.getByRole("button", { name: "Start chat" }).click();
  await bubble("Where is my order?").waitFor();
  check((await page.locator("img").count()) === 0, "user text was rendered as HTML");
  await page.screenshot({ path: `${ARTIFACTS}/1-started.png` });

  const found = await (await fetch(`${BASE}/api/tickets?q=order`, { headers: agent })).json();
  check(found.items.length === 1, `expected one ticket, found ${found.items.length}`);
  const ticket = found.items[0].id;
  check(found.items[0].source === "widget", "the ticket came through the widget");

  await reply(ticket, "It ships today");
  await bubble("It ships today").waitFor();
  await accessible(page, "the widget's conversation");
  await page.screenshot({ path: `${ARTIFACTS}/2-live-reply.png` });

  await page.getByLabel("Your reply").fill("Thanks!");
  await page.keyboard.press("Enter");
  await bubble("Thanks!").waitFor();

  await page.reload();
  await page.getByRole("button", { name: "Open chat" }).click();
  for (const text of ["Where is my order?", "It ships today", "Thanks!"]) {
    await bubble(text).waitFor();
    check((await bubble(text).count()) === 1, `"${text}" shown ${await bubble(text).count()} times`);
  }
  await page.screenshot({ path: `${ARTIFACTS}/3-after-reload.png` });

  await page.close();
  await reply(ticket, "Delivered tomorrow");
  page = await context.newPage();
  await page.goto(`${BASE}/widget/demo?key=${KEY}`);
  await page.getByRole("button", { name: "Open chat" }).click();
  await bubble("Delivered tomorrow").waitFor();
  check((await page.locator("[data-message-id]").count()) === 4, "every message once");
  await page.screenshot({ path: `${ARTIFACTS}/4-reopened.png` });

  const messages = await (await fetch(`${BASE}/api/tickets/${ticket}/messages`, { headers: agent })).json();
  const bodies = messages.items.map((message) => message.body);
  check(JSON.stringify(bodies) === JSON.stringify([hostile, "It ships today", "Thanks!", "Delivered tomorrow"]), `server history: ${bodies}`);
  console.log("widget e2e: 4 messages, live reply, reload and reopen all shown once");
} finally {
  await browser.close();
}
