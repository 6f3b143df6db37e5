// The files a message will carry, checked before they are sent: the server takes at most
// GROWDESK_ATTACHMENT_MAX_BYTES of files on one message (10 MiB unless its operator set another
// limit, and it answers 413 above theirs), so a file that would pass the default is refused here,
// with its name, rather than after a long upload.

/** The server's default limit on the files of one message. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

/** What the composer keeps of a file: the file and a key for the list. */
export interface Pending {
  key: string;
  file: File;
}

export interface Added {
  pending: Pending[];
  /** The files left out, with the size they would have brought the message to. */
  refused: { name: string; total: number }[];
}

/** Adds files in order while their total stays within `limit`; those that would pass it are refused. */
export function addFiles(pending: Pending[], files: File[], newKey: () => string, limit = MAX_ATTACHMENT_BYTES): Added {
  let total = pending.reduce((sum, item) => sum + item.file.size, 0);
  const next = [...pending];
  const refused: Added["refused"] = [];
  for (const file of files) {
    if (total + file.size > limit) {
      refused.push({ name: file.name, total: total + file.size });
      continue;
    }
    total += file.size;
    next.push({ key: newKey(), file });
  }
  return { pending: next, refused };
}

/** A size in bytes as people read it ("2.5 MB"), in `language`. */
export function fileSize(bytes: number, language: string): string {
  const units: [string, number][] = [
    ["megabyte", 1024 * 1024],
    ["kilobyte", 1024],
  ];
  const [unit, size] = units.find(([, size]) => bytes >= size) ?? ["byte", 1];
  return new Intl.NumberFormat(language, { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1 }).format(bytes / size);
}

/** A pasted image has no useful name ("image.png"): it gets one that says when it was pasted. */
export function pastedName(file: File, now: Date): string {
  if (file.name && file.name !== "image.png") return file.name;
  const extension = file.type.split("/")[1]?.replace(/[^a-z0-9]/g, "") || "png";
  const stamp = now.toISOString().slice(0, 19).replace(/[:T]/g, "-");
  return `pasted-${stamp}.${extension}`;
}
