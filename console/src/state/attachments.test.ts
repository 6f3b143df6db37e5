// The files of a message: kept while their total stays within the server's limit, the rest
// refused by name; sizes read as people read them; pasted images named.
import { describe, expect, it } from "vitest";
import { addFiles, fileSize, MAX_ATTACHMENT_BYTES, pastedName } from "./attachments";

const file = (name: string, size: number, type = "text/plain"): File => new File([new Uint8Array(size)], name, { type });

describe("addFiles", () => {
  it("keeps files in order while the total fits and refuses those that would pass it", () => {
    let key = 0;
    const newKey = (): string => `k${++key}`;
    const first = addFiles([], [file("a.txt", 6), file("big.bin", 5), file("b.txt", 4)], newKey, 10);
    expect(first.pending.map((item) => [item.key, item.file.name])).toEqual([
      ["k1", "a.txt"],
      ["k2", "b.txt"],
    ]);
    expect(first.refused).toEqual([{ name: "big.bin", total: 11 }]);
    const second = addFiles(first.pending, [file("c.txt", 1)], newKey, 10);
    expect(second.refused).toEqual([{ name: "c.txt", total: 11 }]);
    expect(second.pending).toHaveLength(2);
  });

  it("takes the server's default of 10 MiB", () => {
    expect(MAX_ATTACHMENT_BYTES).toBe(10_485_760);
    expect(addFiles([], [file("exact.bin", MAX_ATTACHMENT_BYTES)], () => "k").refused).toEqual([]);
    expect(addFiles([], [file("over.bin", MAX_ATTACHMENT_BYTES + 1)], () => "k").refused).toHaveLength(1);
  });
});

describe("fileSize", () => {
  it("reads bytes, kilobytes and megabytes in the agent's language", () => {
    expect(fileSize(512, "en")).toBe("512 byte");
    expect(fileSize(2048, "en")).toBe("2 kB");
    expect(fileSize(2.5 * 1024 * 1024, "en")).toBe("2.5 MB");
    expect(fileSize(2.5 * 1024 * 1024, "es")).toBe("2,5 MB");
  });
});

describe("pastedName", () => {
  it("names a pasted image by when it was pasted, and keeps a real file's name", () => {
    const now = new Date("2026-03-02T09:15:30Z");
    expect(pastedName(file("image.png", 1, "image/png"), now)).toBe("pasted-2026-03-02-09-15-30.png");
    expect(pastedName(file("", 1, "image/jpeg"), now)).toBe("pasted-2026-03-02-09-15-30.jpeg");
    expect(pastedName(file("receipt.pdf", 1, "application/pdf"), now)).toBe("receipt.pdf");
  });
});
