//! Small hand-written mails and the envelope formats they travel in.
//!
//! One series, "greet", small enough to read: a cover letter and two patches
//! that each add a file, so `git am` applies them to any repository. The first
//! patch's commit message holds the lines that tell mbox dialects apart: one
//! starting with `From ` and one starting with `>From `.

/// Message-IDs of the greet series: cover, patch 1, patch 2.
pub const GREET_COVER: &str = "greet-v2-0@example.org";
pub const GREET_1: &str = "greet-v2-1@example.org";
pub const GREET_2: &str = "greet-v2-2@example.org";

/// Lines of patch 1's commit message that an mbox must escape.
pub const FROM_LINE: &str = "From the list: this line starts with From and must survive.";
pub const QUOTED_FROM_LINE: &str = ">From a quoted reply, kept with its quote mark.";

/// The greet series as raw LF mails without envelope: cover, 1/2, 2/2.
pub fn greet() -> Vec<String> {
    vec![
        mail(
            GREET_COVER,
            None,
            "[PATCH v2 0/2] greet: say hello and goodbye",
            "Mon, 1 Aug 2022 10:00:00 +0000",
            "Two files, one greeting each.\n\nAda Lovelace (2):\n  greet: say hello\n  greet: say goodbye\n",
        ),
        mail(
            GREET_1,
            Some(GREET_COVER),
            "[PATCH v2 1/2] greet: say hello",
            "Mon, 1 Aug 2022 10:00:01 +0000",
            &format!(
                "Add hello.txt so that the greeting has a home.\n\n\
                 {FROM_LINE}\n{QUOTED_FROM_LINE}\n\n\
                 Signed-off-by: Ada Lovelace <ada@example.org>\n\
                 ---\n hello.txt | 2 ++\n 1 file changed, 2 insertions(+)\n\n\
                 {}",
                new_file_diff("hello.txt", &["hello", "world"])
            ),
        ),
        mail(
            GREET_2,
            Some(GREET_COVER),
            "[PATCH v2 2/2] greet: say goodbye",
            "Mon, 1 Aug 2022 10:00:02 +0000",
            &format!(
                "Add goodbye.txt, the other half of the greeting.\n\n\
                 Signed-off-by: Ada Lovelace <ada@example.org>\n\
                 ---\n goodbye.txt | 1 +\n 1 file changed, 1 insertion(+)\n\n\
                 {}",
                new_file_diff("goodbye.txt", &["goodbye"])
            ),
        ),
    ]
}

/// A reply to `parent` that gives `trailer` (e.g. `Acked-by: …`).
pub fn reply(id: &str, parent: &str, subject: &str, trailer: &str) -> String {
    let mut m = mail(
        id,
        Some(parent),
        &format!("Re: {subject}"),
        "Tue, 2 Aug 2022 09:00:00 +0000",
        &format!("> quoted text\n\nLooks good.\n\n{trailer}\n"),
    );
    m = m.replacen(
        "From: Ada Lovelace <ada@example.org>",
        "From: Grace Hopper <grace@example.org>",
        1,
    );
    m
}

/// One plain-text mail from Ada.
pub fn mail(id: &str, parent: Option<&str>, subject: &str, date: &str, body: &str) -> String {
    let threading = match parent {
        Some(p) => format!("In-Reply-To: <{p}>\nReferences: <{p}>\n"),
        None => String::new(),
    };
    format!(
        "From: Ada Lovelace <ada@example.org>\n\
         To: greet@lists.example.org\n\
         Subject: {subject}\n\
         Date: {date}\n\
         Message-ID: <{id}>\n\
         {threading}\
         MIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\n\
         \n\
         {body}"
    )
}

/// A git diff creating `path` with `lines`.
fn new_file_diff(path: &str, lines: &[&str]) -> String {
    let mut d = format!(
        "diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{} @@\n",
        lines.len()
    );
    for l in lines {
        d.push('+');
        d.push_str(l);
        d.push('\n');
    }
    d.push_str("-- \n2.39.0\n");
    d
}

/// How mails are put into one mbox file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// mboxrd (every `>*From ` line gains a `>`) rather than mboxo (only
    /// `From ` lines do).
    pub rd: bool,
    /// Lines end in CRLF, as some Windows and IMAP tools write them.
    pub crlf: bool,
}

impl Envelope {
    pub const ALL: [Envelope; 4] = [
        Envelope {
            rd: true,
            crlf: false,
        },
        Envelope {
            rd: false,
            crlf: false,
        },
        Envelope {
            rd: true,
            crlf: true,
        },
        Envelope {
            rd: false,
            crlf: true,
        },
    ];

    pub fn name(self) -> String {
        format!(
            "{}-{}",
            if self.rd { "mboxrd" } else { "mboxo" },
            if self.crlf { "crlf" } else { "lf" }
        )
    }

    /// The mbox file holding `mails` in this envelope.
    pub fn mbox(self, mails: &[String]) -> Vec<u8> {
        let mut out = String::new();
        for m in mails {
            out.push_str("From ada@example.org Mon Aug  1 10:00:00 2022\n");
            for line in m.lines() {
                let quotes = line.len() - line.trim_start_matches('>').len();
                let escape = if self.rd {
                    line[quotes..].starts_with("From ")
                } else {
                    line.starts_with("From ")
                };
                if escape {
                    out.push('>');
                }
                out.push_str(line);
                out.push('\n');
            }
            out.push('\n');
        }
        if self.crlf {
            out = out.replace('\n', "\r\n");
        }
        out.into_bytes()
    }
}
