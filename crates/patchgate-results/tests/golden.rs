//! Golden tests: each sample output under `tests/data/` beside the JSON of
//! what it must parse to. Run with `BLESS=1` to rewrite the expected files
//! after an intended change, then read the diff before committing it.

use patchgate_results::{parse, Format};
use std::fs;
use std::path::Path;

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "tap" => Some(Format::Tap),
        "kut" => Some(Format::KvmUnitTests),
        "xml" => Some(Format::Junit {
            path: "report.xml".into(),
        }),
        _ => None,
    }
}

#[test]
fn every_sample_parses_to_its_expected_json() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let bless = std::env::var_os("BLESS").is_some();
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .expect("tests/data exists because it is part of the crate")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut checked = 0;
    for input in entries {
        let Some(format) = format_of(&input) else {
            continue;
        };
        let bytes = fs::read(&input).expect("a sample listed in the directory is readable");
        let parsed = parse(&format, "suite", Some(0), &bytes);
        let got = serde_json::to_string_pretty(&parsed).expect("Parsed always serialises") + "\n";
        let expected_path = input.with_extension(format!(
            "{}.json",
            input.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        if bless {
            fs::write(&expected_path, &got).expect("the data directory is writable when blessing");
        }
        let want = fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} is missing; run with BLESS=1", expected_path.display()));
        assert_eq!(got, want, "{} parses differently", input.display());
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} samples found");
}
