// The composer's tools and saved views in a real browser (Debian's Chromium, headless, driven by
// playwright-core): an agent keeps a canned reply on its page, inserts it with `/` in a reply
// (placeholders filled), attaches a file (one over the limit is refused), and sends; the customer
// reads the filled text over the API and downloads the file byte for byte, as the agent does in
// the console. The agent mentions a colleague in a note with `@` completion and the colleague's
// bell, in a second browser, rings live. The agent saves the queue's filters as a view, which lists
// exactly the matching tickets (a ticket that comes to match arrives live), renames and deletes
// it. axe-core checks each new screen (the dialog, the page and the suggestions in Spanish and dark
// too); the page must raise no Content-Security-Policy violation.
import { readFile, rm } from "node:fs/promises";
import { accessible, api, check, launch, shot as screenshot, signIn, watchPolicy } from "./browser.mjs";

const { BASE, AGENT_EMAIL, SECOND_EMAIL, PASSWORD, AGENT_TOKEN, CUSTOMER_TOKEN, ARTIFACTS, BACKEND } = process.env;

const browser = await launch();
const shot = (page, name) => screenshot(page, "composer", name);
const openTicket = (subject) => api(CUSTOMER_TOKEN, "POST", "/api/tickets", { subject, description: `About: ${subject}` });

/** The bytes of an attachment as whoever holds `token` downloads them. */
async function download(token, id) {
  const response = await fetch(`${BASE}/api/attachments/${id}`, { headers: { Authorization: `Bearer ${token}` } });
  check(response.ok, `download ${id}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

await rm(`${ARTIFACTS}/composer-${BACKEND}-failure.png`, { force: true });
const policyViolations = [];
let current = null;
try {
  const ticket = await openTicket("Refund for order 1042");
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "en-US", acceptDownloads: true });
  const page = await context.newPage();
  current = page;
  watchPolicy(page, policyViolations);
  await page.goto(`${BASE}/`);
  await signIn(page, AGENT_EMAIL, PASSWORD);

  // The canned replies page: keep one, with the three placeholders.
  await page.getByRole("link", { name: "Canned replies" }).click();
  await page.getByRole("heading", { name: "Canned replies", level: 1 }).waitFor();
  await page.getByLabel("Title", { exact: true }).fill("Refund on its way");
  await page.getByLabel("Shortcut (optional)").fill("refund");
  await page.getByLabel("Text", { exact: true }).fill("Hello {{requester.name}}, the refund for ticket #{{ticket.number}} is on its way.\n\n{{agent.name}}");
  await page.getByRole("button", { name: "Keep the reply" }).click();
  await page.getByText("Refund on its way is kept.").waitFor();
  await page.locator('[data-reply-title="Refund on its way"]').waitFor();
  await accessible(page, "the canned replies page");
  await shot(page, "1-canned-replies");

  // `/` at the start of a line offers it; Enter inserts it with the placeholders filled.
  await page.keyboard.press("Escape");
  await page.keyboard.press("g");
  await page.keyboard.press("a");
  await page.getByRole("option").filter({ hasText: "Refund for order 1042" }).click();
  await page.getByRole("heading", { name: /Refund for order 1042/ }).waitFor();
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press("r");
  await page.keyboard.type("/ref");
  const suggestion = page.locator("#composer-suggestions").getByRole("option", { name: /Refund on its way/ });
  await suggestion.waitFor();
  await accessible(page, "the composer offering a canned reply");
  await shot(page, "2-canned-suggestion");
  await page.keyboard.press("Enter");
  const filled = `Hello carla, the refund for ticket #${ticket.number} is on its way.\n\nana`;
  const composer = page.locator("#composer-text");
  check((await composer.inputValue()) === filled, `the reply is inserted with its placeholders filled: ${JSON.stringify(await composer.inputValue())}`);

  // A file over the limit is refused by name; a small one waits, listed, until the reply is sent.
  const picker = page.locator("input.file-picker");
  await picker.setInputFiles({ name: "huge.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(10 * 1024 * 1024 + 1) });
  await page.getByRole("alert").filter({ hasText: "huge.bin is not attached" }).waitFor();
  const receipt = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 37 + 11) % 256));
  await picker.setInputFiles({ name: "receipt.bin", mimeType: "application/octet-stream", buffer: receipt });
  await page.getByRole("list", { name: "Files to send" }).getByText("receipt.bin").waitFor();
  check((await page.getByRole("list", { name: "Files to send" }).getByRole("listitem").count()) === 1, "only the small file waits to be sent");
  await accessible(page, "the composer with a file to send");
  await shot(page, "3-attachment");
  await page.getByRole("button", { name: /^Send/ }).click();
  const sent = page.locator(".message.reply").filter({ hasText: "the refund for ticket" });
  await sent.getByRole("button", { name: "receipt.bin" }).waitFor();
  check((await page.getByRole("list", { name: "Files to send" }).count()) === 0, "the sent file left the composer");

  // The customer reads the filled text and downloads the very bytes.
  const seen = await api(CUSTOMER_TOKEN, "GET", `/api/tickets/${ticket.id}/messages`);
  const reply = seen.items.find((message) => message.body === filled);
  check(reply && reply.attachments.length === 1 && reply.attachments[0].filename === "receipt.bin", `the customer sees the reply: ${JSON.stringify(seen.items.map((m) => [m.body, m.attachments]))}`);
  check((await download(CUSTOMER_TOKEN, reply.attachments[0].id)).equals(receipt), "the customer's download is byte for byte the file");
  // The agent downloads it in the console too (the console fetches it with its token).
  const [saved] = await Promise.all([page.waitForEvent("download"), sent.getByRole("button", { name: "receipt.bin" }).click()]);
  check(saved.suggestedFilename() === "receipt.bin", `the download is named: ${saved.suggestedFilename()}`);
  check((await readFile(await saved.path())).equals(receipt), "the console's download is byte for byte the file");

  // A colleague in a second browser; `@` in a note offers them, and their bell rings live.
  const otherContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
  const other = await otherContext.newPage();
  watchPolicy(other, policyViolations);
  await other.goto(`${BASE}/`);
  await signIn(other, SECOND_EMAIL, PASSWORD);
  await other.getByRole("button", { name: "Notifications, 0 unread" }).waitFor();
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press("n");
  await page.keyboard.type("Could you look at the receipt @bru");
  const colleague = page.locator("#composer-suggestions").getByRole("option", { name: /bruno/ });
  await colleague.waitFor();
  await accessible(page, "the note offering a colleague");
  // By pointer this time; the text keeps the focus.
  await colleague.click();
  await page.keyboard.type("thanks");
  check((await composer.inputValue()) === "Could you look at the receipt @bruno thanks", `the mention is written as the server reads it: ${await composer.inputValue()}`);
  await page.keyboard.press("Control+Enter");
  await page.locator(".message.note").filter({ hasText: "@bruno thanks" }).waitFor();
  const bell = other.getByRole("button", { name: "Notifications, 1 unread" });
  await bell.waitFor();
  await bell.click();
  await other.getByRole("button", { name: `You were mentioned on #${ticket.number} Refund for order 1042` }).waitFor();
  await accessible(other, "the colleague's bell");
  await shot(other, "4-mentioned");
  await otherContext.close();

  // Saved views: the open urgent tickets, saved from the filters, list exactly those.
  const urgent = [await openTicket("Card declined"), await openTicket("Charged twice")];
  const later = await openTicket("Invoice address");
  for (const each of urgent) await api(AGENT_TOKEN, "PATCH", `/api/tickets/${each.id}`, { priority: "urgent" });
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press("Escape");
  await page.keyboard.press("g");
  await page.keyboard.press("a");
  await page.locator("summary", { hasText: "Filters" }).click();
  await page.locator("#filter-priority").selectOption("urgent");
  const shown = () => page.locator("#ticket-list [data-ticket-number]").evaluateAll((rows) => rows.map((row) => Number(row.dataset.ticketNumber)).sort((a, b) => a - b));
  const expected = urgent.map((each) => each.number).sort((a, b) => a - b);
  await page.waitForFunction((count) => document.querySelectorAll("#ticket-list [data-ticket-number]").length === count, expected.length);
  await page.getByRole("button", { name: "Save as a view…" }).click();
  await page.getByRole("dialog", { name: "Save this view" }).waitFor();
  await accessible(page, "the dialog saving a view");
  await shot(page, "5-save-view");
  await page.getByLabel("Name", { exact: true }).fill("Urgent work");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.waitForURL(/\/views\/saved\/[0-9a-f-]+$/);
  // The saved view is the current one, its own filter in force (the queue's filters are hidden).
  await page.locator('a[aria-current="page"]', { hasText: "Urgent work" }).waitFor();
  check((await page.locator("#filter-priority").count()) === 0, "a saved view hides the queue's filters");
  await page.waitForFunction((count) => document.querySelectorAll("#ticket-list [data-ticket-number]").length === count, expected.length);
  check(JSON.stringify(await shown()) === JSON.stringify(expected), `the saved view lists the urgent open tickets: ${await shown()}`);
  const views = await api(AGENT_TOKEN, "GET", "/api/views");
  check(views.items.length === 1 && views.items[0].name === "Urgent work" && views.items[0].filter.priority === "urgent" && views.items[0].filter.status.join() === "open,pending,in_progress", `the view is kept: ${JSON.stringify(views.items)}`);
  await accessible(page, "a saved view");
  await shot(page, "6-saved-view");

  // A ticket that comes to match arrives live (behind the pill while the agent works the list).
  await api(AGENT_TOKEN, "PATCH", `/api/tickets/${later.id}`, { priority: "urgent" });
  const arrived = page.locator(`#ticket-list [data-ticket-number="${later.number}"]`);
  const pill = page.getByRole("button", { name: /1 update/ });
  await pill.or(arrived).first().waitFor();
  // "." shows what waits (a click could move the pointer off the list, which shows it too).
  if (await pill.isVisible()) await page.keyboard.press(".");
  await arrived.waitFor();
  expected.push(later.number);
  expected.sort((a, b) => a - b);
  check(JSON.stringify(await shown()) === JSON.stringify(expected), `the live ticket joined the view: ${await shown()}`);

  // Rename, then delete: the queue goes back to a built-in view.
  await page.getByRole("button", { name: "Rename or delete the view Urgent work" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Urgent only");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("link", { name: "Urgent only" }).waitFor();
  await page.getByRole("button", { name: "Rename or delete the view Urgent only" }).click();
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("link", { name: "Urgent only" }).waitFor({ state: "detached" });
  await page.waitForURL(/\/views\/all$/);
  check((await api(AGENT_TOKEN, "GET", "/api/views")).items.length === 0, "the view is deleted");

  // The new screens in Spanish and dark: the dialog, the canned replies page, the suggestions.
  await page.getByLabel("Theme").selectOption("dark");
  await page.getByLabel("Language").selectOption("es");
  await page.getByRole("button", { name: "Guardar como vista…" }).click();
  await page.getByRole("dialog", { name: "Guardar esta vista" }).waitFor();
  await accessible(page, "the dialog saving a view, dark, in Spanish");
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });
  await page.getByRole("link", { name: "Respuestas guardadas" }).click();
  await page.locator('[data-reply-title="Refund on its way"]').waitFor();
  await accessible(page, "the canned replies page, dark, in Spanish");
  await shot(page, "7-canned-replies-dark-es");
  // A link to the ticket (the session, the language and the theme outlive the reload).
  await page.goto(`${BASE}/views/open/tickets/${ticket.id}`);
  await page.getByRole("heading", { name: /Refund for order 1042/ }).waitFor();
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press("r");
  await page.keyboard.type("/");
  await page.locator("#composer-suggestions").getByRole("option", { name: /Refund on its way/ }).waitFor();
  await accessible(page, "the composer offering canned replies, dark, in Spanish");
  await shot(page, "8-canned-suggestion-dark-es");

  check(policyViolations.length === 0, `the page reported: ${policyViolations.join("\n")}`);
  console.log(`composer e2e (${BACKEND}): canned reply with placeholders, attachment refused and sent, byte-identical downloads, live mention, saved view`);
} catch (error) {
  await current?.screenshot({ path: `${ARTIFACTS}/composer-${BACKEND}-failure.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
}
