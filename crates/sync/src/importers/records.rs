//! Reading import files record by record in bounded memory: a line or CSV row longer than its
//! limit is skipped (and refused by the importer) without being held, and a read error is
//! returned, to end the import, rather than retried.

use std::io::{self, BufRead};

/// The longest line of GrowDesk's export an import reads: a ticket with all its messages.
pub(crate) const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;
/// The longest CSV row an import reads, all its fields together.
pub(crate) const MAX_ROW_BYTES: usize = 8 * 1024 * 1024;
/// The most fields a CSV row may have.
const MAX_FIELDS: usize = 4096;
/// What a CSV row's buffer starts at; it grows up to `MAX_ROW_BYTES` as rows need.
const FIRST_BUFFER: usize = 64 * 1024;

/// Why a record longer than `limit` bytes is refused.
fn too_long(limit: usize) -> String {
    format!(
        "longer than {} MiB, the most a record may hold",
        limit / (1024 * 1024)
    )
}

/// The contents of `reader`'s buffer, waiting out interrupted reads (which are not failures).
fn fill(reader: &mut impl BufRead) -> io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // Re-borrowed so the loop can call `fill_buf` again after an interruption.
            Ok(_) => return reader.fill_buf(),
            Err(error) => return Err(error),
        }
    }
}

/// The lines of a file, numbered from 1, each at most `limit` bytes.
pub(crate) struct Lines<R> {
    reader: R,
    limit: usize,
    number: u64,
    line: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R, limit: usize) -> Self {
        Self {
            reader,
            limit,
            number: 0,
            line: Vec::new(),
        }
    }

    /// The next line's number and text (without its end), or why it is refused; `None` at the
    /// end of the file.
    ///
    /// # Errors
    /// The file cannot be read.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, Result<&str, String>)>> {
        self.line.clear();
        let mut overlong = false;
        let mut ended = false;
        loop {
            let available = fill(&mut self.reader)?;
            if available.is_empty() {
                break;
            }
            let (taken, found_end) = match available.iter().position(|&byte| byte == b'\n') {
                Some(end) => (end + 1, true),
                None => (available.len(), false),
            };
            let text = &available[..taken - usize::from(found_end)];
            if self.line.len() + text.len() > self.limit {
                overlong = true;
                self.line.clear();
            } else if !overlong {
                self.line.extend_from_slice(text);
            }
            self.reader.consume(taken);
            if found_end {
                ended = true;
                break;
            }
        }
        if !ended && !overlong && self.line.is_empty() {
            return Ok(None);
        }
        self.number += 1;
        if overlong {
            return Ok(Some((self.number, Err(too_long(self.limit)))));
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        let text = std::str::from_utf8(&self.line).map_err(|error| format!("not UTF-8: {error}"));
        Ok(Some((self.number, text)))
    }
}

/// The records of a CSV file, parsed as the `csv` crate's reader does (quotes, any line end,
/// a leading byte order mark dropped, blank lines skipped, rows of any length).
pub(crate) struct CsvRecords<R> {
    reader: R,
    parser: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    lines: LineCounter,
}

/// Counts lines over the bytes read as a text editor does: `\r\n`, `\n` and a lone `\r` each
/// end one line (the parser's own count knows `\n` alone, so a file of `\r` ends was all
/// "line 1").
#[derive(Debug, Clone, Copy)]
struct LineCounter {
    /// The line the next byte is on.
    line: u64,
    after_carriage_return: bool,
}

impl LineCounter {
    fn advance(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match byte {
                b'\r' => self.line += 1,
                b'\n' if !self.after_carriage_return => self.line += 1,
                _ => {}
            }
            self.after_carriage_return = byte == b'\r';
        }
    }
}

impl<R: BufRead> CsvRecords<R> {
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            parser: csv_core::Reader::new(),
            output: vec![0; FIRST_BUFFER],
            ends: vec![0; 64],
            lines: LineCounter {
                line: 1,
                after_carriage_return: false,
            },
        }
    }

    /// The next record and the line it starts on, or why it is refused; `None` at the end.
    ///
    /// # Errors
    /// The file cannot be read.
    pub(crate) fn next_record(
        &mut self,
    ) -> io::Result<Option<(u64, Result<csv::StringRecord, String>)>> {
        use csv_core::ReadRecordResult as Parsed;
        let line = self.skip_line_ends()?;
        let (mut written, mut ended) = (0, 0);
        let mut overlong = false;
        loop {
            let input = fill(&mut self.reader)?;
            let (parsed, read, wrote, ends) = self.parser.read_record(
                input,
                &mut self.output[written..],
                &mut self.ends[ended..],
            );
            self.lines.advance(&input[..read]);
            self.reader.consume(read);
            written += wrote;
            ended += ends;
            match parsed {
                Parsed::InputEmpty => {}
                Parsed::OutputFull if self.output.len() < MAX_ROW_BYTES => {
                    let larger = (self.output.len() * 2).min(MAX_ROW_BYTES);
                    self.output.resize(larger, 0);
                }
                Parsed::OutputEndsFull if self.ends.len() < MAX_FIELDS => {
                    let larger = (self.ends.len() * 2).min(MAX_FIELDS);
                    self.ends.resize(larger, 0);
                }
                // Too long: what was read is dropped and the rest of the record parsed into
                // the same space, so that the next record starts where it should.
                Parsed::OutputFull | Parsed::OutputEndsFull => {
                    overlong = true;
                    written = 0;
                    ended = 0;
                }
                Parsed::Record if overlong => {
                    self.shrink();
                    return Ok(Some((line, Err(too_long(MAX_ROW_BYTES)))));
                }
                Parsed::Record => {
                    let record = self.record(written, ended);
                    self.shrink();
                    return Ok(Some((line, record)));
                }
                Parsed::End => return Ok(None),
            }
        }
    }

    /// Passes over line ends before a record (the parser would skip them too), so that the
    /// line number is the one the record starts on.
    fn skip_line_ends(&mut self) -> io::Result<u64> {
        loop {
            let input = fill(&mut self.reader)?;
            let blank = input
                .iter()
                .take_while(|&&byte| byte == b'\r' || byte == b'\n')
                .count();
            if blank == 0 {
                return Ok(self.lines.line);
            }
            self.lines.advance(&input[..blank]);
            self.reader.consume(blank);
        }
    }

    /// The fields of the record just parsed into the buffers.
    fn record(&self, written: usize, ended: usize) -> Result<csv::StringRecord, String> {
        let mut record = csv::StringRecord::with_capacity(written, ended);
        let mut start = 0;
        for (number, &end) in self.ends[..ended].iter().enumerate() {
            let field = std::str::from_utf8(&self.output[start..end])
                .map_err(|error| format!("field {} is not UTF-8: {error}", number + 1))?;
            record.push_field(field);
            start = end;
        }
        Ok(record)
    }

    /// Gives back the space one long record took, so it is not held for the rest of the file.
    fn shrink(&mut self) {
        if self.output.len() > FIRST_BUFFER {
            self.output = vec![0; FIRST_BUFFER];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small limit keeps the tests' inputs small; the reader does not depend on its size.
    const LIMIT: usize = 1024 * 1024;

    fn lines(text: &[u8]) -> Vec<(u64, Result<String, String>)> {
        let mut reader = Lines::new(io::BufReader::with_capacity(16, text), LIMIT);
        let mut all = Vec::new();
        while let Some((number, line)) = reader.next_line().unwrap() {
            all.push((number, line.map(str::to_owned)));
        }
        all
    }

    fn records(text: &[u8]) -> Vec<(u64, Result<Vec<String>, String>)> {
        let mut reader = CsvRecords::new(io::BufReader::with_capacity(16, text));
        let mut all = Vec::new();
        while let Some((line, record)) = reader.next_record().unwrap() {
            all.push((
                line,
                record.map(|record| record.iter().map(str::to_owned).collect()),
            ));
        }
        all
    }

    #[test]
    fn lines_are_numbered_and_an_overlong_one_is_refused_alone() {
        let mut text = b"first\r\n\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', LIMIT + 1));
        text.extend(b"\nlast");
        let read = lines(&text);
        assert_eq!(
            read.len(),
            4,
            "{:?}",
            read.iter().map(|l| l.0).collect::<Vec<_>>()
        );
        assert_eq!(read[0], (1, Ok("first".to_owned())));
        assert_eq!(read[1], (2, Ok(String::new())));
        assert_eq!(read[2], (3, Err(too_long(LIMIT))));
        assert_eq!(read[3], (4, Ok("last".to_owned())));
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_read() {
        let mut text = vec![b'y'; LIMIT];
        text.push(b'\n');
        let read = lines(&text);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].1.as_ref().map(String::len), Ok(LIMIT));
    }

    #[test]
    fn csv_records_parse_like_the_csv_crate() {
        let text = b"\xef\xbb\xbfa,b\r\n\"x, \"\"quoted\"\"\nline\",2\n\n3\n";
        assert_eq!(
            records(text),
            vec![
                (1, Ok(vec!["a".to_owned(), "b".to_owned()])),
                (
                    2,
                    Ok(vec!["x, \"quoted\"\nline".to_owned(), "2".to_owned()])
                ),
                (5, Ok(vec!["3".to_owned()])),
            ]
        );
    }

    #[test]
    fn csv_line_numbers_are_the_same_whatever_the_line_ends() {
        let lf = "h,b\nx,1\n\n\"two\nlines\",2\ny,3\n";
        let expected = vec![1, 2, 4, 6];
        for ends in ["\n", "\r\n", "\r"] {
            let text = lf.replace('\n', ends);
            let read: Vec<u64> = records(text.as_bytes()).iter().map(|r| r.0).collect();
            assert_eq!(read, expected, "line ends {ends:?}");
        }
    }

    #[test]
    fn an_overlong_csv_field_or_row_is_refused_and_the_next_row_read() {
        let mut text = b"head\n\"".to_vec();
        text.extend(std::iter::repeat_n(b'z', MAX_ROW_BYTES + 1));
        text.extend(b"\"\n");
        text.extend(std::iter::repeat_n(b',', MAX_FIELDS + 1));
        text.extend(b"\nafter\n");
        let read = records(&text);
        assert_eq!(read.len(), 4);
        assert_eq!(read[1], (2, Err(too_long(MAX_ROW_BYTES))));
        assert_eq!(read[2], (3, Err(too_long(MAX_ROW_BYTES))));
        assert_eq!(read[3], (4, Ok(vec!["after".to_owned()])));
    }

    #[test]
    fn a_field_that_is_not_utf8_is_refused() {
        let read = records(b"ok,\xff\n");
        assert!(read[0].1.as_ref().unwrap_err().contains("field 2"));
    }

    #[test]
    fn a_read_error_is_returned_not_retried() {
        let directory = std::fs::File::open(std::env::temp_dir()).unwrap();
        let mut reader = Lines::new(io::BufReader::new(directory), LIMIT);
        assert!(reader.next_line().is_err());
        let directory = std::fs::File::open(std::env::temp_dir()).unwrap();
        let mut reader = CsvRecords::new(io::BufReader::new(directory));
        assert!(reader.next_record().is_err());
    }
}
