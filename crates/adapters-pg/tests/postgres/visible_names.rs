//! Names are what they look like (migration 0012_visible_names.sql): the CHECKs refuse the
//! code points the domain refuses, and names written before the rule are repaired so that
//! they read back through it, in agreement with the domain at every boundary of its invisible
//! ranges.

use sqlx::Row;
use tollgate_domain::{is_visible, SpaceName, TokenName};
use tollgate_pg::testing::TestDatabase;
use tollgate_pg::MIGRATOR;

/// The migration under test.
const VERSION: i64 = 12;

/// Each character next to a change of visibility, alone as a name, that the schema before
/// this migration admitted (no control character, no white space at an end).
fn boundary_names() -> Vec<char> {
    let mut chars = Vec::new();
    let mut previous = None;
    for c in (1..=u32::from(char::MAX)).filter_map(char::from_u32) {
        if let Some(p) = previous {
            if is_visible(p) != is_visible(c) {
                chars.extend([p, c]);
            }
        }
        previous = Some(c);
    }
    chars.sort_unstable();
    chars.dedup();
    chars.retain(|c| !c.is_control() && !c.is_whitespace());
    chars
}

/// A fresh database with every migration before this one applied, and not this one.
async fn before_the_migration() -> TestDatabase {
    let db = TestDatabase::create().await;
    sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .execute(db.pool())
        .await
        .unwrap();
    for migration in MIGRATOR.iter().filter(|m| m.version < VERSION) {
        sqlx::raw_sql(&migration.sql)
            .execute(db.pool())
            .await
            .unwrap_or_else(|e| panic!("migration {}: {e}", migration.version));
    }
    db
}

#[tokio::test]
async fn names_written_before_the_rule_are_repaired_in_agreement_with_the_domain() {
    let db = before_the_migration().await;
    let mut cases: Vec<(String, String)> = boundary_names()
        .into_iter()
        .map(|c| {
            let expected = if is_visible(c) {
                c.to_string()
            } else {
                "\u{fffd}".to_owned()
            };
            (c.to_string(), expected)
        })
        .collect();
    assert!(
        cases.len() > 40,
        "every range has boundaries: {}",
        cases.len()
    );
    for (name, expected) in [
        ("ok", "ok"),
        ("👩\u{200d}💻 ops", "👩\u{200d}💻 ops"),
        ("\u{200b}\u{200b}", "\u{fffd}\u{fffd}"),
        ("\u{200b} \u{2060}", "\u{fffd}\u{fffd}\u{fffd}"),
        ("admin\u{202e}txt.exe", "admin\u{fffd}txt.exe"),
        (
            "a\u{2028}b\u{2066}c\u{2069}d\u{202a}",
            "a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}",
        ),
        ("\u{202e}\u{2028}\u{2800}", "\u{fffd}\u{fffd}\u{fffd}"),
    ] {
        cases.push((name.to_owned(), expected.to_owned()));
    }
    for (n, (name, _)) in cases.iter().enumerate() {
        sqlx::query(
            "INSERT INTO spaces (id, name, created_at)
             VALUES (gen_random_uuid(), $1, 'epoch'::timestamptz + make_interval(secs => $2))",
        )
        .bind(name)
        .bind(f64::from(u32::try_from(n).unwrap()))
        .execute(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{name:?} before the migration: {e}"));
    }
    sqlx::query(
        "INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, secret_hash)
         VALUES (gen_random_uuid(), NULL, 'admin', $1, now(), 'system', '$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA')",
    )
    .bind("\u{feff}")
    .execute(db.pool())
    .await
    .unwrap();

    let migration = MIGRATOR
        .iter()
        .find(|m| m.version == VERSION)
        .expect("the migration exists");
    sqlx::raw_sql(&migration.sql)
        .execute(db.pool())
        .await
        .unwrap();

    let rows = sqlx::query("SELECT name FROM spaces ORDER BY created_at")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), cases.len());
    for (row, (name, expected)) in rows.iter().zip(&cases) {
        let repaired: String = row.get("name");
        assert_eq!(&repaired, expected, "{name:?}");
        assert!(
            SpaceName::parse(&repaired).is_ok(),
            "{name:?} -> {repaired:?}"
        );
    }
    let token: String = sqlx::query_scalar("SELECT name FROM api_tokens")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(token, "\u{fffd}");
    assert!(TokenName::parse(&token).is_ok());
}

#[tokio::test]
async fn the_checks_refuse_the_code_points_the_domain_refuses() {
    let db = TestDatabase::create().await;
    for c in [
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{2028}', '\u{2029}',
    ] {
        let name = format!("admin{c}txt");
        for (sql, constraint) in [
            (
                "INSERT INTO spaces (id, name, created_at) VALUES (gen_random_uuid(), $1, now())",
                "spaces_name_valid",
            ),
            (
                "INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, secret_hash)
                 VALUES (gen_random_uuid(), NULL, 'admin', $1, now(), 'system', '$argon2id$x')",
                "api_tokens_name_valid",
            ),
        ] {
            let error = sqlx::query(sql)
                .bind(&name)
                .execute(db.pool())
                .await
                .expect_err("refused");
            let violated = error.as_database_error().and_then(|e| e.constraint());
            assert_eq!(violated, Some(constraint), "{name:?}: {error}");
        }
    }
    // What the domain accepts still passes, up to its limits.
    for name in [
        "😀".repeat(100),
        "\u{200b}visible".to_owned(),
        "👩\u{200d}💻".to_owned(),
    ] {
        sqlx::query(
            "INSERT INTO spaces (id, name, created_at) VALUES (gen_random_uuid(), $1, now())",
        )
        .bind(&name)
        .execute(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{name:?}: {e}"));
    }
}
