//! The bundled example gives every series the verdict its README states,
//! and blames neither the known failure nor the flaky test.

use crate::util::Env;
use serde_json::Value;

fn class_of<'a>(report: &'a Value, suite: &str, test: &str) -> Option<&'a str> {
    report["suites"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == suite)?["tests"]
        .as_array()?
        .iter()
        .find(|t| t["name"] == test)?["class"]
        .as_str()
}

fn blocking(report: &Value) -> Vec<String> {
    report["rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter(|r| r["status"] != "pass")
                .map(|r| r["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn demo_gives_every_example_series_its_verdict() {
    let env = Env::new("");
    let dir = env.path().join("demo");
    let out = env
        .cmd()
        .args(["demo", "--dir"])
        .arg(&dir)
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It ends by saying where to go to explore it, in counts a reader
    // would write.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("\nto explore it: cd {}\n", dir.display())),
        "{stdout}"
    );
    assert!(!stdout.contains(" 1 messages"), "{stdout}");
    let demo = Env::existing(dir.join("patchgate.toml"));
    let list = demo.json(&["series", "list", "--json"]);
    let series = list.as_array().expect("array");
    assert_eq!(series.len(), 7, "seven revisions: {list:#}");

    let find = |subject: &str, version: u64| -> &Value {
        series
            .iter()
            .find(|s| s["subject"] == subject && s["version"] == version)
            .unwrap_or_else(|| panic!("no v{version} {subject}"))
    };
    let report = |s: &Value| -> Value {
        let id = s["id"].to_string();
        demo.json(&["test", &id, "--json"])
    };

    // (a) a good series with tests: pass; the known failure and the flaky
    // test are never blamed.
    let a = report(find("calc: add calc_pow", 1));
    assert_eq!(a["verdict"], "pass", "{a:#}");
    assert_eq!(
        class_of(&a, "unit", "div rounds down for negatives"),
        Some("pre-existing")
    );
    assert!(matches!(
        class_of(&a, "unit", "add is fast enough"),
        Some("ok" | "flaky")
    ));
    assert_eq!(class_of(&a, "unit", "pow"), Some("new"));
    let base = a["base"].as_str().expect("base");
    assert_eq!(base.len(), 40, "full commit ids in JSON");
    assert!(base.bytes().all(|b| b.is_ascii_hexdigit()));

    // (b) breaks a test: a regression, and only that test.
    let b = report(find("calc: multiply by repeated addition", 1));
    assert_eq!(b["verdict"], "fail");
    assert_eq!(class_of(&b, "unit", "mul negative"), Some("regression"));
    assert_eq!(
        class_of(&b, "unit", "div rounds down for negatives"),
        Some("pre-existing")
    );
    assert_eq!(blocking(&b), ["unit"]);

    // (c) code without a test.
    let c = report(find("calc: add calc_mod", 1));
    assert_eq!(c["verdict"], "fail");
    assert_eq!(blocking(&c), ["includes-test"]);

    // (d) does not apply: a verdict naming the patch and the files.
    let d = report(find("calc: round calc_div toward negative infinity", 1));
    assert_eq!(d["applied"], false);
    assert_eq!(d["apply_failure"]["patch"], 1);
    let files = d["apply_failure"]["files"].to_string();
    assert!(files.contains("src/calc.c"), "{files}");
    assert_eq!(d["verdict"], "fail");

    // (e) v1 breaks the build and is superseded by v2, which passes.
    let e1 = find("calc: add calc_abs", 1);
    let e2 = find("calc: add calc_abs", 2);
    assert_eq!(e1["superseded_by"], e2["id"]);
    assert_eq!(e1["topic"], e2["topic"]);
    let e1 = report(e1);
    assert_eq!(e1["verdict"], "fail");
    assert!(blocking(&e1).contains(&"build".to_string()), "{e1:#}");
    assert_eq!(report(e2)["verdict"], "pass");

    // (f) base-commit behind master: tested there.
    let f = report(find("calc: add calc_clamp", 1));
    assert_eq!(f["verdict"], "pass", "{f:#}");
    assert_eq!(f["base"], "5e148fb7fd3cf7d9ba480d13c7b76ab43c7ad81b");
    assert!(f["base_reason"]
        .as_str()
        .unwrap_or("")
        .contains("base-commit"));
}
