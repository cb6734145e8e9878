//! The `requires` grammar: every accepted form, and errors that name the
//! word that is wrong and the forms that would be right.

use patchgate_gate::{parse_clause, BranchConfig, Clause, Policy};
use proptest::prelude::*;

fn suites() -> Vec<String> {
    vec!["build".into(), "unit".into(), "selftests".into()]
}

#[test]
fn accepted_forms() {
    let people = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let table: Vec<(&str, Clause, &str)> = vec![
        (
            "build",
            Clause::Suite {
                name: "build".into(),
            },
            "build",
        ),
        (
            "  unit ",
            Clause::Suite {
                name: "unit".into(),
            },
            "unit",
        ),
        (
            "reviews >= 1",
            Clause::Reviews { min: 1, from: None },
            "reviews >= 1",
        ),
        (
            "reviews>=2",
            Clause::Reviews { min: 2, from: None },
            "reviews >= 2",
        ),
        (
            "acks >= 1",
            Clause::Acks { min: 1, from: None },
            "acks >= 1",
        ),
        (
            "reviews >= 1 from [maz@kernel.org, oliver.upton@linux.dev]",
            Clause::Reviews {
                min: 1,
                from: people(&["maz@kernel.org", "oliver.upton@linux.dev"]),
            },
            "reviews >= 1 from [maz@kernel.org, oliver.upton@linux.dev]",
        ),
        (
            "reviews >= 1 from maz@kernel.org, \"Paolo Bonzini\"",
            Clause::Reviews {
                min: 1,
                from: people(&["maz@kernel.org", "Paolo Bonzini"]),
            },
            "reviews >= 1 from [maz@kernel.org, \"Paolo Bonzini\"]",
        ),
        ("includes-test", Clause::IncludesTest, "includes-test"),
        ("signed-off", Clause::SignedOff, "signed-off"),
    ];
    for (text, want, canonical) in table {
        let got = parse_clause(text, &suites());
        assert_eq!(got.as_ref().ok(), Some(&want), "{text}: {got:?}");
        assert_eq!(want.to_string(), canonical);
        // The canonical spelling parses back to the same clause.
        assert_eq!(
            parse_clause(canonical, &suites()).ok(),
            Some(want),
            "{canonical}"
        );
    }
}

#[test]
fn errors_point_at_the_problem() {
    // (text, column, words the message must contain)
    let table: &[(&str, usize, &[&str])] = &[
        (
            "lint",
            1,
            &[
                "unknown requirement \"lint\"",
                "reviews >= N",
                "includes-test",
                "configured suites: build, unit, selftests",
            ],
        ),
        (
            "reviews",
            8,
            &["expected \">=\" after \"reviews\"", "the end"],
        ),
        (
            "reviews >= x",
            12,
            &["expected a number after \"reviews >=\"", "\"x\""],
        ),
        (
            "reviews >= 1 from",
            18,
            &["expected an email address or a name"],
        ),
        ("reviews >= 1 from [a@b.c", 25, &["expected \",\" or \"]\""]),
        (
            "reviews >= 1 by a@b.c",
            14,
            &["unexpected \"by\" after \"reviews >= 1\""],
        ),
        ("build unit", 7, &["unexpected \"unit\" after \"build\""]),
        ("", 1, &["expected a suite name"]),
        ("reviews >= 99999999999", 12, &["too large"]),
        ("reviews == 1", 9, &["unexpected '='"]),
        ("reviews >= 1 from \"open", 19, &["never closed"]),
    ];
    for (text, column, words) in table {
        let err = parse_clause(text, &suites()).err();
        let Some(err) = err else {
            panic!("{text:?} parsed")
        };
        assert_eq!(err.column, *column, "{text:?}: {}", err.message);
        for w in *words {
            assert!(
                err.message.contains(w),
                "{text:?}: {:?} lacks {w:?}",
                err.message
            );
        }
    }
}

#[test]
fn policy_collects_every_error() {
    let queue = vec![
        "build".to_string(),
        "lint".to_string(),
        "includes-test".to_string(),
    ];
    let next = vec!["reviews >= x".to_string()];
    let branches = [
        BranchConfig {
            name: "queue",
            from: Some("master"),
            requires: &queue,
        },
        BranchConfig {
            name: "next",
            from: Some("queue"),
            requires: &next,
        },
    ];
    let err = Policy::new("calc", &suites(), &branches, None).err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("branch \"queue\": requires[1] \"lint\", column 1: unknown requirement"),
        "{text}"
    );
    assert!(text.contains("[tree.calc.rule.includes-test]"), "{text}");
    assert!(text.contains("branch \"next\""), "{text}");
}

#[test]
fn bad_glob_is_a_config_error() {
    let req = vec!["includes-test".to_string()];
    let code = vec!["src/[".to_string()];
    let tests = vec!["tests/**".to_string()];
    let branches = [BranchConfig {
        name: "queue",
        from: None,
        requires: &req,
    }];
    let err = Policy::new("calc", &suites(), &branches, Some((&code, &tests))).err();
    let text = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("code glob \"src/[\" is not valid"), "{text}");
}

proptest! {
    #[test]
    fn parser_never_panics(s in any::<String>()) {
        let _ = parse_clause(&s, &suites());
    }

    #[test]
    fn parser_never_panics_on_near_misses(s in "(reviews|acks|from|build|>=|>|=|\\[|\\]|,|\"|[0-9]{1,12}| |[a-z@.]{1,5}){0,12}") {
        if let Err(e) = parse_clause(&s, &suites()) {
            prop_assert!(e.column >= 1 && e.column <= s.chars().count() + 1);
        }
    }
}

#[test]
fn a_clause_prints_in_a_form_that_parses_back_to_it() {
    for people in [
        vec!["Doe,J"],
        vec!["<a@b>", "plain@x.org"],
        vec!["Jane Doe"],
    ] {
        let clause = Clause::Reviews {
            min: 1,
            from: Some(people.iter().map(|p| p.to_string()).collect()),
        };
        let printed = clause.to_string();
        assert_eq!(
            parse_clause(&printed, &suites()).ok(),
            Some(clause),
            "{printed}"
        );
    }
}
