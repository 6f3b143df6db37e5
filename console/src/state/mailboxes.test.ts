// The mailbox form: a mailbox shown in the form and sent back unchanged, passwords write-only
// (blank keeps, typed sets, "remove" clears), a side switched off sent as null, and a 422
// problem's fields shown at the form's fields.
import { describe, expect, it } from "vitest";
import type { Mailbox } from "../api/email";
import { emptyForm, fieldErrors, formOf, requestOf } from "./mailboxes";

const mailbox: Mailbox = {
  id: "0193a000-0000-7000-8000-000000000001",
  address: "support@example.test",
  display_name: "Acme Support",
  imap: { host: "imap.example.test", port: 993, security: "tls", username: "support", folder: "Support", after_import: { action: "move", folder: "Archive" } },
  smtp: { host: "smtp.example.test", port: 587, security: "starttls", username: "support" },
  has_imap_password: true,
  has_smtp_password: false,
  default_category_id: "0193a000-0000-7000-8000-0000000000c1",
  default_priority: "high",
  acknowledge: false,
  active: true,
  created_at: "2026-12-02T10:00:00Z",
  updated_at: "2026-12-02T10:00:00Z",
};

describe("the mailbox form", () => {
  it("sends a mailbox back as it is when nothing was changed, keeping its passwords", () => {
    const request = requestOf(formOf(mailbox));
    expect(request).toEqual({
      address: "support@example.test",
      display_name: "Acme Support",
      imap: { host: "imap.example.test", port: 993, security: "tls", username: "support", folder: "Support", after_import: { action: "move", folder: "Archive" } },
      smtp: { host: "smtp.example.test", port: 587, security: "starttls", username: "support" },
      default_category_id: "0193a000-0000-7000-8000-0000000000c1",
      default_priority: "high",
      acknowledge: false,
      active: true,
    });
    expect(request.imap).not.toHaveProperty("password");
    expect(request.smtp).not.toHaveProperty("password");
  });

  it("sets a typed password and clears a stored one only when asked", () => {
    const form = formOf(mailbox);
    form.smtpPassword.value = "app-password";
    form.imapPassword.remove = true;
    const request = requestOf(form);
    expect(request.smtp?.password).toBe("app-password");
    expect(request.imap).toHaveProperty("password", null);
  });

  it("never clears a password that is not stored, and a typed one wins over remove", () => {
    const form = formOf(mailbox);
    form.smtpPassword.remove = true;
    form.imapPassword.remove = true;
    form.imapPassword.value = "new-one";
    const request = requestOf(form);
    expect(request.smtp).not.toHaveProperty("password");
    expect(request.imap?.password).toBe("new-one");
  });

  it("sends a side switched off as null, and trims what was typed", () => {
    const form = emptyForm();
    form.address = "  help@example.test ";
    form.imapEnabled = false;
    form.smtpHost = " smtp.example.test ";
    form.smtpPort = "465";
    form.smtpSecurity = "tls";
    const request = requestOf(form);
    expect(request.address).toBe("help@example.test");
    expect(request.imap).toBeNull();
    expect(request.smtp).toEqual({ host: "smtp.example.test", port: 465, security: "tls", username: "" });
    expect(request.default_category_id).toBeNull();
  });

  it("marks imported mail seen unless a folder to move it to is chosen, and reads INBOX when no folder is given", () => {
    const form = emptyForm();
    form.imapFolder = " ";
    expect(requestOf(form).imap).toMatchObject({ folder: "INBOX", after_import: { action: "seen" } });
    form.afterImport = "move";
    form.moveFolder = "Done";
    expect(requestOf(form).imap?.after_import).toEqual({ action: "move", folder: "Done" });
  });

  it("sends what is not a port number as 0, for the server to refuse at the field", () => {
    const form = emptyForm();
    for (const typed of ["99a", "70000", "-1", "2.5", ""]) {
      form.imapPort = typed;
      expect(requestOf(form).imap?.port).toBe(0);
    }
    form.imapPort = " 1143 ";
    expect(requestOf(form).imap?.port).toBe(1143);
  });

  it("shows a mailbox without IMAP or SMTP with the form's defaults for them, switched off", () => {
    const form = formOf({ ...mailbox, imap: null, smtp: null, has_imap_password: false });
    expect(form.imapEnabled).toBe(false);
    expect(form.smtpEnabled).toBe(false);
    expect(form.imapFolder).toBe("INBOX");
    expect(form.imapPassword).toEqual({ value: "", stored: false, remove: false });
    expect(requestOf(form).imap).toBeNull();
  });
});

describe("fieldErrors", () => {
  it("puts each reason at the form's field its JSON path names", () => {
    const { fields, rest } = fieldErrors({
      type: "about:blank",
      title: "Unprocessable Entity",
      status: 422,
      detail: "invalid fields",
      errors: [
        { field: "address", message: "must be an email address" },
        { field: "imap.port", message: "must be between 1 and 65535" },
        { field: "imap.after_import.folder", message: "must not be empty" },
        { field: "smtp.host", message: "must not be empty" },
        { field: "smtp.host", message: "must be a host name" },
      ],
    });
    expect(fields).toEqual({ address: "must be an email address", imapPort: "must be between 1 and 65535", moveFolder: "must not be empty", smtpHost: "must not be empty must be a host name" });
    expect(rest).toEqual([]);
  });

  it("gives back the reasons for fields the form does not show", () => {
    const { fields, rest } = fieldErrors({ type: "about:blank", title: "Unprocessable Entity", status: 422, detail: "invalid", errors: [{ field: "dkim.selector", message: "unknown" }] });
    expect(fields).toEqual({});
    expect(rest).toEqual(["dkim.selector: unknown"]);
  });

  it("finds nothing in a problem without fields or without a problem", () => {
    expect(fieldErrors(null)).toEqual({ fields: {}, rest: [] });
  });
});
