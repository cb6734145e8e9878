//! A deterministic corpus of real-shaped patch mail.
//!
//! Topics of one to eight patches, with and without cover letters, posted in
//! one to three revisions (later ones threaded to the earlier cover or
//! carrying a b4 `change-id:`), review replies that quote the patch and add
//! `Reviewed-by:`/`Acked-by:` trailers, and bodies of 2–10 KB with unified
//! diffs in kernel style. The same seed gives the same bytes, so figures from
//! different runs measure the same input.

use std::io::Write;
use std::path::PathBuf;

/// Write a synthetic corpus as an mboxrd file.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Messages to write, at least.
    #[arg(long, default_value_t = 50_000)]
    pub messages: usize,
    /// Output mbox.
    #[arg(long, default_value = "target/bench/corpus.mbox")]
    pub out: PathBuf,
    /// Seed of the generator.
    #[arg(long, default_value_t = 2022)]
    pub seed: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let stats = write(&args)?;
    println!(
        "wrote {} messages ({} patches, {} covers, {} replies), {:.1} MB to {}",
        stats.messages,
        stats.patches,
        stats.covers,
        stats.replies,
        stats.bytes as f64 / 1e6,
        args.out.display()
    );
    Ok(())
}

/// What a corpus holds.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub messages: usize,
    pub patches: usize,
    pub covers: usize,
    pub replies: usize,
    pub bytes: u64,
}

/// xorshift64*: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FIRST: &[&str] = &[
    "Sean",
    "Paolo",
    "Like",
    "Marc",
    "Ricardo",
    "Andrew",
    "Alexandru",
    "Eric",
    "Oliver",
    "Will",
    "Nikos",
    "Thomas",
    "Jim",
    "Maxim",
    "Vitaly",
    "Yosry",
    "Mingwei",
    "Aaron",
    "Reiji",
    "Zenghui",
];
const LAST: &[&str] = &[
    "Christopherson",
    "Bonzini",
    "Xu",
    "Zyngier",
    "Koller",
    "Jones",
    "Elisei",
    "Auger",
    "Upton",
    "Deacon",
    "Nikoleris",
    "Huth",
    "Mattson",
    "Levitsky",
    "Kuznetsov",
    "Ahmed",
    "Zhang",
    "Lewis",
    "Moola",
    "Yu",
];
const AREA: &[&str] = &[
    "KVM: x86",
    "KVM: arm64",
    "KVM: selftests",
    "arm: pmu",
    "x86: pmu",
    "KVM: VMX",
    "KVM: SVM",
    "arm64: timer",
    "lib: alloc",
    "s390x: mvpg",
];
const VERB: &[&str] = &[
    "Fix", "Add", "Drop", "Rework", "Use", "Handle", "Reject", "Emulate", "Test", "Document",
];
const NOUN: &[&str] = &[
    "PMU counter overflow",
    "absent MSRs when host-initiated",
    "the cycle counter",
    "nested state migration",
    "guest debug registers",
    "PEBS records",
    "LBR stack",
    "event filter",
    "vGIC ITS tables",
    "dirty ring reset",
    "page table walks",
    "MMIO exits",
];
const WORDS: &[&str] = &[
    "the",
    "guest",
    "host",
    "counter",
    "register",
    "value",
    "when",
    "is",
    "not",
    "a",
    "to",
    "of",
    "and",
    "that",
    "this",
    "patch",
    "KVM",
    "should",
    "must",
    "because",
    "overflow",
    "interrupt",
    "emulation",
    "test",
    "fails",
    "on",
    "bare",
    "metal",
    "with",
    "vCPU",
    "MSR",
    "which",
    "would",
    "otherwise",
    "return",
    "zero",
    "for",
    "instead",
    "of",
    "injecting",
    "#GP",
];
const FILES: &[&str] = &[
    "arch/x86/kvm/pmu.c",
    "arch/x86/kvm/vmx/pmu_intel.c",
    "arch/x86/kvm/svm/pmu.c",
    "arch/arm64/kvm/pmu-emul.c",
    "arm/pmu.c",
    "lib/arm64/asm/processor.h",
    "x86/pmu.c",
    "tools/testing/selftests/kvm/x86_64/pmu_event_filter_test.c",
    "arm/unittests.cfg",
    "lib/alloc_page.c",
    "virt/kvm/kvm_main.c",
    "include/linux/kvm_host.h",
];
const CODE: &[&str] = &[
    "\tif (!pmc)",
    "\t\treturn 1;",
    "\tpmc->counter = data;",
    "\tkvm_pmu_refresh(vcpu);",
    "\tunsigned long flags;",
    "\tfor (i = 0; i < nr_events; i++) {",
    "\t}",
    "\treturn 0;",
    "\twrite_sysreg(val, pmcr_el0);",
    "\tisb();",
    "\treport(cnt > 0, \"counter moved\");",
    "\tu64 mask = BIT_ULL(idx);",
    "\tspin_lock(&kvm->mmu_lock);",
    "\tspin_unlock(&kvm->mmu_lock);",
];

struct Person {
    name: String,
    email: String,
}

fn person(rng: &mut Rng) -> Person {
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    Person {
        name: format!("{first} {last}"),
        email: format!(
            "{}.{}@example.org",
            first.to_lowercase(),
            last.to_lowercase()
        ),
    }
}

fn sentence(rng: &mut Rng, base: usize, spread: usize) -> String {
    let words = base + rng.below(spread);
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(WORDS));
    }
    s.push('.');
    s
}

fn paragraph(rng: &mut Rng, base: usize, spread: usize) -> String {
    let bytes = base + rng.below(spread);
    let mut text = String::new();
    let mut line = String::new();
    while text.len() < bytes {
        for w in sentence(rng, 8, 10).split(' ') {
            if line.len() + w.len() + 1 > 72 {
                text.push_str(&line);
                text.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(w);
        }
    }
    text.push_str(&line);
    text.push('\n');
    text
}

fn diff(rng: &mut Rng, base: usize, spread: usize) -> String {
    let bytes = base + rng.below(spread);
    let mut out = String::new();
    let mut stat = String::new();
    let files = 1 + rng.below(3);
    let mut body = String::new();
    for _ in 0..files {
        let f = rng.pick(FILES);
        let mut added = 0;
        let mut removed = 0;
        body.push_str(&format!(
            "diff --git a/{f} b/{f}\nindex {:07x}..{:07x} 100644\n--- a/{f}\n+++ b/{f}\n",
            rng.next() & 0xfff_ffff,
            rng.next() & 0xfff_ffff
        ));
        let per_file = bytes / files;
        let start = body.len();
        while body.len() - start < per_file {
            let line = 10 + rng.below(2000);
            body.push_str(&format!(
                "@@ -{line},7 +{line},8 @@ static int kvm_pmu_handle(struct kvm_vcpu *vcpu)\n"
            ));
            for _ in 0..3 {
                body.push(' ');
                body.push_str(rng.pick(CODE));
                body.push('\n');
            }
            body.push('-');
            body.push_str(rng.pick(CODE));
            body.push('\n');
            removed += 1;
            for _ in 0..2 {
                body.push('+');
                body.push_str(rng.pick(CODE));
                body.push('\n');
                added += 1;
            }
            for _ in 0..3 {
                body.push(' ');
                body.push_str(rng.pick(CODE));
                body.push('\n');
            }
        }
        stat.push_str(&format!(
            " {f} | {} {}\n",
            added + removed,
            "+".repeat(added.min(40))
        ));
    }
    out.push_str(&stat);
    out.push_str(&format!(" {files} files changed\n\n"));
    out.push_str(&body);
    out
}

struct Mail<'a> {
    from: &'a Person,
    date: i64,
    id: String,
    subject: String,
    in_reply_to: Option<&'a str>,
    references: Vec<String>,
    body: String,
}

fn rfc2822(t: i64) -> String {
    // Days-from-civil, so the generator needs no date crate.
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    let wday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    format!(
        "{wday}, {d} {month} {y} {:02}:{:02}:{:02} +0000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn emit(out: &mut impl Write, m: &Mail<'_>) -> std::io::Result<u64> {
    let mut s = String::with_capacity(m.body.len() + 1024);
    s.push_str("From mboxrd@z Thu Jan  1 00:00:00 1970\n");
    s.push_str(&format!("From: {} <{}>\n", m.from.name, m.from.email));
    s.push_str("To: kvm@vger.kernel.org\nCc: kvmarm@lists.linux.dev\n");
    s.push_str(&format!("Subject: {}\n", m.subject));
    s.push_str(&format!("Date: {}\n", rfc2822(m.date)));
    s.push_str(&format!("Message-Id: <{}>\n", m.id));
    if let Some(parent) = m.in_reply_to {
        s.push_str(&format!("In-Reply-To: <{parent}>\n"));
    }
    if !m.references.is_empty() {
        let refs: Vec<String> = m.references.iter().map(|r| format!("<{r}>")).collect();
        s.push_str(&format!("References: {}\n", refs.join("\n ")));
    }
    s.push_str("List-Id: <kvm.vger.kernel.org>\nMIME-Version: 1.0\n");
    s.push_str("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n");
    for line in m.body.lines() {
        // mboxrd: quote every From_ line, and every already-quoted one once more.
        if line.trim_start_matches('>').starts_with("From ") {
            s.push('>');
        }
        s.push_str(line);
        s.push('\n');
    }
    s.push('\n');
    out.write_all(s.as_bytes())?;
    Ok(s.len() as u64)
}

/// Write the corpus `args` asks for.
pub fn write(args: &Args) -> anyhow::Result<Stats> {
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.out)?);
    let mut rng = Rng(args.seed.max(1));
    let mut stats = Stats::default();
    let mut date = 1_640_995_200i64; // 2022-01-01
    let mut topic = 0usize;
    let reviewers: Vec<Person> = (0..20).map(|_| person(&mut rng)).collect();
    while stats.messages < args.messages {
        topic += 1;
        let author = person(&mut rng);
        let title = format!("{}: {} {}", rng.pick(AREA), rng.pick(VERB), rng.pick(NOUN));
        let n = [1, 1, 2, 2, 3, 3, 4, 5, 6, 8][rng.below(10)];
        let revisions = 1 + rng.below(3);
        let change_id = (rng.below(3) == 0).then(|| format!("20220101-topic-{topic:06x}"));
        let mut previous_cover: Option<String> = None;
        for v in 1..=revisions {
            date += 600 + rng.below(86_400) as i64;
            let tag = if v > 1 {
                format!(" v{v}")
            } else {
                String::new()
            };
            let id = |i: usize| format!("{}-{topic}-v{v}-{i}@example.org", date);
            let cover_id = id(0);
            let thread_root = if n > 1 { cover_id.clone() } else { id(1) };
            if n > 1 {
                let mut body = paragraph(&mut rng, 400, 800);
                body.push_str(&format!("\n{} ({}):\n", author.name, n));
                for i in 1..=n {
                    body.push_str(&format!("  {} part {i}\n", title));
                }
                if let Some(c) = &change_id {
                    body.push_str(&format!(
                        "\n---\nbase-commit: {:040x}\nchange-id: {c}\n",
                        rng.next()
                    ));
                }
                let refs: Vec<String> = previous_cover.iter().cloned().collect();
                let m = Mail {
                    from: &author,
                    date,
                    id: cover_id.clone(),
                    subject: format!("[PATCH{tag} 0/{n}] {title}"),
                    in_reply_to: previous_cover.as_deref(),
                    references: refs,
                    body,
                };
                stats.bytes += emit(&mut out, &m)?;
                stats.covers += 1;
                stats.messages += 1;
            }
            for i in 1..=n {
                let mut body = paragraph(&mut rng, 300, 1200);
                body.push_str(&format!(
                    "\nSigned-off-by: {} <{}>\n---\n",
                    author.name, author.email
                ));
                body.push_str(&diff(&mut rng, 1500, 6000));
                body.push_str("--\n2.37.1\n");
                let numbering = if n > 1 {
                    format!(" {i}/{n}")
                } else {
                    String::new()
                };
                let (parent, refs) = if n > 1 || i > 1 {
                    (Some(thread_root.as_str()), vec![thread_root.clone()])
                } else {
                    (None, Vec::new())
                };
                let m = Mail {
                    from: &author,
                    date: date + i as i64,
                    id: id(i),
                    subject: format!("[PATCH{tag}{numbering}] {title} part {i}"),
                    in_reply_to: parent,
                    references: refs,
                    body,
                };
                stats.bytes += emit(&mut out, &m)?;
                stats.patches += 1;
                stats.messages += 1;
            }
            for r in 0..rng.below(4) {
                let reviewer = &reviewers[rng.below(reviewers.len())];
                let target = rng.below(n + 1);
                let parent = if target == 0 {
                    thread_root.clone()
                } else {
                    id(target)
                };
                let mut body = format!("On {}, {} wrote:\n", rfc2822(date), author.name);
                for line in paragraph(&mut rng, 300, 1).lines() {
                    body.push_str("> ");
                    body.push_str(line);
                    body.push('\n');
                }
                body.push('\n');
                body.push_str(&paragraph(&mut rng, 100, 400));
                let trailer = ["Reviewed-by", "Acked-by", "Tested-by"][rng.below(3)];
                if rng.below(3) > 0 {
                    body.push_str(&format!(
                        "\n{trailer}: {} <{}>\n",
                        reviewer.name, reviewer.email
                    ));
                }
                let m = Mail {
                    from: reviewer,
                    date: date + 3600 + r as i64,
                    id: format!("{}-{topic}-v{v}-re{r}@example.net", date),
                    subject: format!("Re: [PATCH{tag}] {title}"),
                    in_reply_to: Some(&parent),
                    references: vec![thread_root.clone(), parent.clone()],
                    body,
                };
                stats.bytes += emit(&mut out, &m)?;
                stats.replies += 1;
                stats.messages += 1;
            }
            if n > 1 {
                previous_cover = Some(cover_id);
            }
        }
    }
    out.flush()?;
    Ok(stats)
}
