// The email templates' preview: placeholders filled with samples, escaped in HTML as the server
// escapes them, and unknown placeholders named.
import { describe, expect, it } from "vitest";
import { escapeHtml, fill, PLACEHOLDERS, unknownPlaceholders, type Placeholder } from "./templates";

const samples = Object.fromEntries(PLACEHOLDERS.map((name) => [name, `<${name}> & "more"`])) as Record<Placeholder, string>;

describe("fill", () => {
  it("fills every known placeholder, with or without spaces inside the braces", () => {
    expect(fill("Hi {{requester.name}}, #{{ ticket.number }}", samples, false)).toBe('Hi <requester.name> & "more", #<ticket.number> & "more"');
  });

  it("escapes the samples in HTML and never the template itself", () => {
    expect(fill("<p>{{message.body}}</p>", samples, true)).toBe("<p>&lt;message.body&gt; &amp; &quot;more&quot;</p>");
  });

  it("leaves unknown placeholders as written", () => {
    expect(fill("{{ticket.owner}} {{reset_url}}", samples, false)).toBe('{{ticket.owner}} <reset_url> & "more"');
  });
});

describe("unknownPlaceholders", () => {
  it("names each unknown placeholder once, across subject, text and HTML", () => {
    expect(unknownPlaceholders("{{ticket.owner}} {{ticket.number}}", "{{agent.email}}", "{{ ticket.owner }}")).toEqual(["ticket.owner", "agent.email"]);
    expect(unknownPlaceholders(...PLACEHOLDERS.map((name) => `{{${name}}}`))).toEqual([]);
  });
});

describe("escapeHtml", () => {
  it("escapes the five characters HTML gives meaning to", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});
