// The email channel in the console, in a real browser against real mail servers (a throwaway
// Dovecot and an SMTP sink that the Rust test started): the admin finds the mailbox the test
// made, creates a second one through the form (the server's refusals shown at their fields
// before and after: a bad address, a taken one), tests its connection and sees IMAP and SMTP
// connected, sees a stored password as "unchanged", edits an email template beside its preview
// (the HTML drawn in a sandboxed frame with its own styles) and reverts it; an agent opens the
// ticket a customer's mail opened, sees its channel and the acknowledgement in the ticket's
// mail, replies and sees the reply queued for the customer, then sent once the test marks it so
// (as growdesk-sync's sender does), without a reload; then "forgot password" ends on its
// confirmation and a made-up reset link is refused. axe-core checks every new screen in English
// and Spanish, light and dark; the page must raise no Content-Security-Policy violation.
// Screenshots go to $ARTIFACTS as email-<backend>-….
import { rm, writeFile } from "node:fs/promises";
import { accessible, api, check, launch, shot as screenshot, signIn, watchPolicy } from "./browser.mjs";

const { BASE, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, AGENT_EMAIL, AGENT_PASSWORD, AGENT_TOKEN, TICKET_ID, CUSTOMER_EMAIL, NEW_MAILBOX, NEW_MAILBOX_PASSWORD, IMAP_PORT, SMTP_PORT, QUEUED_SEEN, ARTIFACTS, BACKEND } = process.env;

const SCREENS = [
  { link: { en: "Mailboxes", es: "Buzones" }, name: "mailboxes" },
  { link: { en: "Email templates", es: "Plantillas de correo" }, name: "email-templates" },
];
const THEMES = [
  ["en", "light"],
  ["en", "dark"],
  ["es", "light"],
  ["es", "dark"],
];

const browser = await launch();
const shot = (page, name) => screenshot(page, "email", name);
await rm(`${ARTIFACTS}/email-${BACKEND}-failure.png`, { force: true });
const policyViolations = [];
let current = null;
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  current = page;
  watchPolicy(page, policyViolations);
  await page.goto(`${BASE}/admin/mailboxes`);
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const nav = page.getByRole("navigation", { name: /Views|Vistas/ });

  // The admin screens in both languages and both themes.
  for (const [language, theme] of THEMES) {
    await page.locator("#pref-locale").selectOption(language);
    await page.locator("#pref-theme").selectOption(theme);
    for (const screen of SCREENS) {
      await nav.getByRole("link", { name: screen.link[language], exact: true }).click();
      await page.waitForURL(new RegExp(`/admin/${screen.name}$`));
      await page.getByRole("heading", { level: 1, name: screen.link[language] }).waitFor();
      await page.locator(screen.name === "mailboxes" ? "[data-mailbox]" : "[data-template]").first().waitFor();
      await accessible(page, `${screen.name} (${language}, ${theme})`);
      await shot(page, `${screen.name}-${language}-${theme}`);
    }
  }
  await page.locator("#pref-locale").selectOption("en");
  await page.locator("#pref-theme").selectOption("light");

  // The mailbox the test made is listed; the palette reaches the page too.
  await page.keyboard.press("Control+k");
  await page.getByRole("combobox", { name: "Type a command" }).fill("mailboxes");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/admin\/mailboxes$/);
  const listed = page.locator('[data-mailbox="support@example.test"]');
  await listed.waitFor();
  check(/IMAP: 127\.0\.0\.1/.test(await listed.innerText()) && /SMTP: 127\.0\.0\.1/.test(await listed.innerText()), `the mailbox shows both sides: ${await listed.innerText()}`);

  // A refusal is shown at the field it names.
  const form = page.locator(".mailbox-form");
  await form.getByLabel("Address", { exact: true }).fill("not an address");
  await form.getByRole("button", { name: "Create mailbox" }).click();
  await page.locator("#mailbox-address-error").waitFor();
  check((await page.locator("#mailbox-address").getAttribute("aria-invalid")) === "true", "the address is marked invalid");
  check((await page.locator("#mailbox-address").getAttribute("aria-describedby"))?.includes("mailbox-address-error"), "the address names its error");
  await accessible(page, "a mailbox refused at its field");
  await shot(page, "mailbox-refused");

  // A second mailbox through the form, on the same servers.
  await form.getByLabel("Address", { exact: true }).fill(NEW_MAILBOX);
  await form.getByLabel("Display name", { exact: true }).fill("Example Sales");
  const imap = form.getByRole("group", { name: "Incoming mail (IMAP)" });
  await imap.getByLabel("Server", { exact: true }).fill("127.0.0.1");
  await imap.getByLabel("Security", { exact: true }).selectOption("none");
  await imap.getByLabel("Port", { exact: true }).fill(IMAP_PORT);
  await imap.getByLabel("User name", { exact: true }).fill(NEW_MAILBOX);
  await imap.getByLabel("Password or app password", { exact: true }).fill(NEW_MAILBOX_PASSWORD);
  await imap.getByRole("radio", { name: "Move it to a folder" }).check();
  await imap.getByLabel("Folder to move it to", { exact: true }).fill("Archive");
  const smtp = form.getByRole("group", { name: "Outgoing mail (SMTP)" });
  await smtp.getByLabel("Server", { exact: true }).fill("127.0.0.1");
  await smtp.getByLabel("Security", { exact: true }).selectOption("none");
  await smtp.getByLabel("Port", { exact: true }).fill(SMTP_PORT);
  await smtp.getByLabel("User name", { exact: true }).fill(NEW_MAILBOX);
  await smtp.getByLabel("Password or app password", { exact: true }).fill(NEW_MAILBOX_PASSWORD);
  await form.getByLabel("Priority", { exact: true }).selectOption("high");
  await form.getByRole("button", { name: "Create mailbox" }).click();
  await page.getByRole("status").filter({ hasText: `The mailbox ${NEW_MAILBOX} was created.` }).waitFor();
  const created = (await api(ADMIN_TOKEN, "GET", "/api/mailboxes")).items.find((mailbox) => mailbox.address === NEW_MAILBOX);
  check(
    created && created.display_name === "Example Sales" && created.imap.port === Number(IMAP_PORT) && created.imap.after_import.action === "move" && created.imap.after_import.folder === "Archive" && created.smtp.port === Number(SMTP_PORT) && created.has_imap_password && created.has_smtp_password && created.default_priority === "high",
    `the mailbox was created as typed: ${JSON.stringify(created)}`,
  );
  check(!JSON.stringify(created).includes(NEW_MAILBOX_PASSWORD), "no password comes back");

  // Test connection: both sides connect.
  const card = page.locator(`[data-mailbox="${NEW_MAILBOX}"]`);
  await card.getByRole("button", { name: `Test connection of ${NEW_MAILBOX}` }).click();
  await card.locator('[data-check="imap"].ok').filter({ hasText: "Connected" }).waitFor();
  await card.locator('[data-check="smtp"].ok').filter({ hasText: "Connected" }).waitFor();
  await page.getByRole("status").filter({ hasText: `Connection test of ${NEW_MAILBOX}: IMAP Connected; SMTP Connected.` }).waitFor();
  await accessible(page, "a connection test");
  await shot(page, "mailbox-tested");

  // Another mailbox with the same address is refused at the address.
  await form.getByLabel("Address", { exact: true }).fill(NEW_MAILBOX);
  await form.getByLabel("Display name", { exact: true }).fill("Duplicate");
  await form.getByRole("checkbox", { name: "Fetch mail from this mailbox" }).uncheck();
  await form.getByRole("checkbox", { name: "Send mail from this address" }).uncheck();
  await form.getByRole("button", { name: "Create mailbox" }).click();
  await page.locator("#mailbox-address-error").waitFor();
  check((await api(ADMIN_TOKEN, "GET", "/api/mailboxes")).items.length === 2, "no second mailbox with that address");

  // Editing it: the stored passwords show as "unchanged", and saving keeps them.
  await card.getByRole("button", { name: `Edit ${NEW_MAILBOX}` }).click();
  check((await imap.getByLabel("Password or app password", { exact: true }).getAttribute("placeholder")) === "unchanged", "a stored password reads as unchanged");
  check((await imap.getByLabel("Password or app password", { exact: true }).inputValue()) === "", "a stored password is never filled in");
  await form.getByLabel("Display name", { exact: true }).fill("Example Sales Team");
  await form.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("status").filter({ hasText: `The mailbox ${NEW_MAILBOX} was saved.` }).waitFor();
  const saved = (await api(ADMIN_TOKEN, "GET", "/api/mailboxes")).items.find((mailbox) => mailbox.address === NEW_MAILBOX);
  check(saved.display_name === "Example Sales Team" && saved.has_imap_password && saved.has_smtp_password, `saving kept the passwords: ${JSON.stringify(saved)}`);

  // An email template beside its preview; saved it is "customised", reverted it is not.
  await nav.getByRole("link", { name: "Email templates", exact: true }).click();
  await page.getByRole("button", { name: "Edit Agent's reply (English)" }).click();
  const subject = page.getByLabel("Subject", { exact: true });
  await subject.fill("Re: {{ticket.subject}} [#{{ticket.number}}] — Example");
  await page.locator('[data-preview="subject"]').filter({ hasText: "Re: My order has not arrived [#1042] — Example" }).waitFor();
  await page.getByLabel("HTML", { exact: true }).fill('<p style="color: rgb(0, 128, 0)">Hello {{requester.name}}</p><p>{{message.body}}</p>');
  const preview = page.frameLocator("iframe.mail-frame");
  const greeting = preview.getByText("Hello Carla Customer");
  await greeting.waitFor();
  check((await greeting.evaluate((element) => getComputedStyle(element).color)) === "rgb(0, 128, 0)", "the preview applies the mail's own styles");
  check((await page.locator("iframe.mail-frame").getAttribute("sandbox")) === "allow-scripts", "the preview runs sandboxed, in an origin of its own");
  await subject.fill("Re: {{ticket.subject}} {{ticket.owner}}");
  await page.getByText("Not a placeholder: ticket.owner").waitFor();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.locator(".template-form [role=alert]").waitFor();
  await subject.fill("Re: {{ticket.subject}} [#{{ticket.number}}] — Example");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Agent's reply (English) was saved." }).waitFor();
  const row = page.locator('[data-template="reply-en"]');
  await row.getByText("Customised").waitFor();
  await accessible(page, "an email template beside its preview");
  const frame = await (await page.locator("iframe.mail-frame").elementHandle()).contentFrame();
  await accessible(frame, "the HTML mail's preview");
  await shot(page, "template");
  const stored = (await api(ADMIN_TOKEN, "GET", "/api/email-templates")).items.find((template) => template.kind === "reply" && template.locale === "en");
  check(stored.customised && stored.subject === "Re: {{ticket.subject}} [#{{ticket.number}}] — Example", `the template was saved: ${JSON.stringify(stored)}`);
  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: "Revert to built-in: Agent's reply (English)" }).click();
  await page.getByRole("status").filter({ hasText: "Agent's reply (English) is the built-in text again." }).waitFor();
  check((await row.getByText("Customised").count()) === 0, "the reverted template is not customised");

  // The agent opens the ticket the customer's mail opened: its channel, its acknowledgement.
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, AGENT_EMAIL, AGENT_PASSWORD);
  await page.goto(`${BASE}/views/open/tickets/${TICKET_ID}`);
  await page.getByRole("heading", { name: /Where is my parcel\?/ }).waitFor();
  const first = page.locator(".message.from-customer").first();
  await first.locator('[data-channel="email"]').filter({ hasText: "Email" }).waitFor();
  const mail = page.locator(".ticket-mail");
  await mail.locator('[data-mail="acknowledgement"]').filter({ hasText: CUSTOMER_EMAIL }).waitFor();

  // A reply goes to the customer by mail: queued, then sent (told by a file to the test, which
  // marks it sent as the sender would) without a reload.
  await page.locator("#composer-text").fill("Your parcel left today.");
  await page.getByRole("button", { name: "Send (Ctrl+Enter)" }).click();
  const reply = page.locator(".message.reply.from-staff").filter({ hasText: "Your parcel left today." });
  await reply.locator('[data-delivery="queued"]').filter({ hasText: "Queued" }).waitFor();
  check((await reply.locator(".message-delivery").innerText()).includes(`Mailed to ${CUSTOMER_EMAIL}`), "the reply names whom it was mailed to");
  await mail.locator('[data-mail="reply"] [data-delivery="queued"]').waitFor();
  const deliveries = await api(AGENT_TOKEN, "GET", `/api/tickets/${TICKET_ID}/deliveries`);
  check(deliveries.items.some((delivery) => delivery.kind === "reply" && delivery.recipient === CUSTOMER_EMAIL && delivery.status === "queued"), `the reply is queued: ${JSON.stringify(deliveries.items)}`);
  await writeFile(QUEUED_SEEN, "");
  await reply.locator('[data-delivery="sent"]').filter({ hasText: "Sent" }).waitFor();
  await mail.locator('[data-mail="reply"] [data-delivery="sent"]').waitFor();
  await mail.locator('[data-mail="acknowledgement"] [data-delivery="queued"]').waitFor();
  for (const [language, theme] of THEMES) {
    await page.locator("#pref-locale").selectOption(language);
    await page.locator("#pref-theme").selectOption(theme);
    await accessible(page, `an email ticket (${language}, ${theme})`);
    await shot(page, `ticket-${language}-${theme}`);
  }
  await page.locator("#pref-locale").selectOption("en");
  await page.locator("#pref-theme").selectOption("light");

  // Forgot password: the same confirmation for anyone; a made-up link is refused.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await page.waitForURL(/\/forgot-password$/);
  for (const [language, theme] of THEMES) {
    await page.locator("html").evaluate((html, [locale, scheme]) => {
      localStorage.setItem("growdesk.locale", locale);
      localStorage.setItem("growdesk.theme", scheme);
    }, [language, theme]);
    await page.reload();
    await page.locator("#forgot-email").waitFor();
    await accessible(page, `forgot password (${language}, ${theme})`);
    await shot(page, `forgot-${language}-${theme}`);
    await page.goto(`${BASE}/reset-password?token=made-up`);
    await page.locator("#reset-password").fill("a-new-password-1");
    await page.locator("#reset-again").fill("a-new-password-1");
    await page.locator("button[type=submit]").click();
    await page.getByRole("alert").waitFor();
    await accessible(page, `a refused reset link (${language}, ${theme})`);
    await shot(page, `reset-refused-${language}-${theme}`);
    await page.goto(`${BASE}/forgot-password`);
  }
  await page.locator("html").evaluate(() => {
    localStorage.setItem("growdesk.locale", "en");
    localStorage.setItem("growdesk.theme", "light");
  });
  await page.reload();
  await page.getByLabel("Email").fill(AGENT_EMAIL);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.getByRole("status").filter({ hasText: `If an account uses ${AGENT_EMAIL}, a link to choose a new password is on its way.` }).waitFor();
  await page.goto(`${BASE}/reset-password?token=made-up`);
  await page.getByLabel("New password", { exact: true }).fill("a-new-password-1");
  await page.getByLabel("New password again").fill("a-new-password-1");
  await page.getByRole("button", { name: "Set the password" }).click();
  await page.getByRole("alert").filter({ hasText: "The link is invalid or has expired." }).waitFor();
  await page.getByRole("link", { name: "Ask for a new link" }).click();
  await page.getByRole("heading", { name: "Reset your password" }).waitFor();

  check(policyViolations.length === 0, `the page reported: ${policyViolations.join("\n")}`);
  console.log(`console email e2e (${BACKEND}): 2 admin screens and the ticket in 2 languages and 2 themes, a mailbox refused at its field, created, tested (IMAP and SMTP connected) and edited with its passwords kept, a template previewed, saved and reverted, an email ticket's channel and acknowledgement shown, a reply queued then sent, forgot password confirmed and a made-up link refused`);
} catch (error) {
  await current?.screenshot({ path: `${ARTIFACTS}/email-${BACKEND}-failure.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
}
