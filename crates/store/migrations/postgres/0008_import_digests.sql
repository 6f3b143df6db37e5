-- What each imported ticket looked like at its source when last imported, so a re-import
-- updates a ticket only when the source changed, never undoing work done here since.
ALTER TABLE external_refs ADD COLUMN digest TEXT;
