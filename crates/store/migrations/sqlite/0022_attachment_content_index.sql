-- Attachments by their content's hash: files are stored once per content, so a file written for
-- a change that is not committed may be removed only while no attachment names that content.
CREATE INDEX attachments_sha256_idx ON attachments (sha256);
