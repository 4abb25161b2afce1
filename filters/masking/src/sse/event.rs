//! SSE framing: lines (LF or CRLF) and events (blank-line terminated).

/// Splits bytes that arrive in pieces into complete lines, each ending in
/// LF. A line ends at LF, CR or CRLF, as the SSE format says (clients split
/// on a bare CR too: missing it would let a line through unread); CR and
/// CRLF endings go out as LF. A UTF-8 byte order mark at the very start is
/// dropped, as clients drop it.
#[derive(Debug, Default)]
pub(super) struct LineSplitter {
    partial: Vec<u8>,
    /// The last line ended with a CR: an LF that comes next belongs to it.
    after_cr: bool,
    /// The first bytes have been checked for a byte order mark.
    started: bool,
}

const BOM: &[u8] = b"\xef\xbb\xbf";

impl LineSplitter {
    /// Calls `f` for every line completed by `bytes`.
    pub fn feed(&mut self, bytes: &[u8], mut f: impl FnMut(&[u8])) {
        let mut rest = bytes;
        if !self.started {
            // Hold the first bytes until a byte order mark can be told apart.
            self.partial.extend_from_slice(rest);
            if self.partial.len() < BOM.len() && BOM.starts_with(&self.partial) {
                return;
            }
            self.started = true;
            let head = std::mem::take(&mut self.partial);
            let head = head.strip_prefix(BOM).unwrap_or(&head).to_vec();
            return self.feed(&head, f);
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(tail) = rest.strip_prefix(b"\n") {
                // The LF of a CRLF split across pieces: the line was already
                // given out at its CR.
                rest = tail;
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', rest) {
            let cr = rest.get(end) == Some(&b'\r');
            let mut cut = end + 1;
            if cr {
                match rest.get(cut) {
                    Some(b'\n') => cut += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let (line, tail) = rest.split_at(cut);
            if self.partial.is_empty() && !cr {
                f(line);
            } else {
                // Lines go out ending in LF whatever ended them, so a CRLF
                // split across pieces cannot turn into two line ends.
                self.partial.extend_from_slice(content(line));
                self.partial.push(b'\n');
                let whole = std::mem::take(&mut self.partial);
                f(&whole);
            }
            rest = tail;
        }
        self.partial.extend_from_slice(rest);
    }

    /// The unterminated last line, if any.
    pub fn take_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.partial)
    }
}

/// One event: its raw lines, and the parsed `data` and `event` fields.
#[derive(Debug, Default)]
pub(super) struct Event {
    lines: Vec<Vec<u8>>,
    data: Vec<u8>,
    has_data: bool,
    name: Option<String>,
}

fn content(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

fn field(line: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b':', line) {
        Some(c) => {
            let (name, value) = line.split_at(c);
            let value = value.get(1..).unwrap_or(&[]);
            (name, value.strip_prefix(b" ").unwrap_or(value))
        }
        None => (line, &[]),
    }
}

impl Event {
    /// Adds a raw line; `true` when it was the blank line that ends the event.
    pub fn add_line(&mut self, raw: &[u8]) -> bool {
        self.lines.push(raw.to_vec());
        let line = content(raw);
        if line.is_empty() {
            return true;
        }
        if line.first() == Some(&b':') {
            return false;
        }
        match field(line) {
            (b"data", value) => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            (b"event", value) => self.name = std::str::from_utf8(value).ok().map(str::to_owned),
            _ => {}
        }
        false
    }

    /// Whether no line has been added.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The joined `data` lines, if there were any.
    pub fn data(&self) -> Option<&[u8]> {
        self.has_data.then_some(self.data.as_slice())
    }

    /// The `event` field.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Writes the event exactly as received.
    pub fn write_raw(&self, out: &mut Vec<u8>) {
        for line in &self.lines {
            out.extend_from_slice(line);
        }
    }

    /// Writes the event with its data replaced by `data`, other lines kept.
    pub fn write_with_data(&self, data: &str, out: &mut Vec<u8>) {
        let mut wrote = false;
        for line in &self.lines {
            let c = content(line);
            let is_data = !c.is_empty() && c.first() != Some(&b':') && field(c).0 == b"data";
            if !is_data {
                out.extend_from_slice(line);
            } else if !wrote {
                for part in data.split('\n') {
                    out.extend_from_slice(b"data: ");
                    out.extend_from_slice(part.as_bytes());
                    out.push(b'\n');
                }
                wrote = true;
            }
        }
    }
}
