//! Names are what they look like (migration 0010_visible_names.sql): the CHECKs refuse the
//! code points and sizes the domain refuses, and names written before the rule are repaired
//! so that they read back through it, in agreement with the domain at every boundary of its
//! invisible ranges.

use sqlx::{Connection, Row, SqliteConnection};
use tollgate_app::ports::SpaceRepository;
use tollgate_app::testing::fixtures::space;
use tollgate_domain::{is_visible, SpaceName, TokenName};
use tollgate_sqlite::testing::TestFile;
use tollgate_sqlite::MIGRATOR;

/// The migration under test.
const VERSION: i64 = 10;

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

/// A connection to an unmigrated file, with every migration before this one applied.
async fn before_the_migration() -> (TestFile, SqliteConnection) {
    let file = TestFile::empty_dir();
    let mut connection =
        SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", file.path().display()))
            .await
            .unwrap();
    for migration in MIGRATOR.iter().filter(|m| m.version < VERSION) {
        sqlx::raw_sql(&migration.sql)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("migration {}: {e}", migration.version));
    }
    (file, connection)
}

async fn apply_the_migration(connection: &mut SqliteConnection) {
    let migration = MIGRATOR
        .iter()
        .find(|m| m.version == VERSION)
        .expect("the migration exists");
    sqlx::raw_sql(&migration.sql)
        .execute(&mut *connection)
        .await
        .unwrap();
}

#[tokio::test]
async fn names_written_before_the_rule_are_repaired_in_agreement_with_the_domain() {
    let (_file, mut connection) = before_the_migration().await;
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
        sqlx::query("INSERT INTO spaces (id, name, created_at) VALUES (randomblob(16), ?, ?)")
            .bind(name)
            .bind(i64::try_from(n).unwrap())
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{name:?} before the migration: {e}"));
    }
    // Tokens are repaired the same way.
    sqlx::query(
        "INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, secret_hash)
         VALUES (randomblob(16), NULL, 'admin', ?, 0, 'system', '$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA')",
    )
    .bind("\u{feff}")
    .execute(&mut connection)
    .await
    .unwrap();

    apply_the_migration(&mut connection).await;

    let rows = sqlx::query("SELECT name FROM spaces ORDER BY created_at")
        .fetch_all(&mut connection)
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
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(token, "\u{fffd}");
    assert!(TokenName::parse(&token).is_ok());
    // Every row meets the narrowed CHECKs.
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
}

#[tokio::test]
async fn the_checks_refuse_the_code_points_and_bytes_the_domain_refuses() {
    let file = TestFile::create().await;
    let store = file.open().await;
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    let mut connection = SqliteConnection::connect(&file.url()).await.unwrap();
    // 40 characters as SQLite counts them (a lead byte and ten continuation bytes each), 440
    // bytes: over the byte cap alone. Not UTF-8 the domain would accept; only SQL can write it.
    let wide = format!(
        "UPDATE spaces SET name = CAST(x'{}' AS TEXT)",
        "F080808080808080808080".repeat(40)
    );
    let mut refused = vec![wide];
    for c in [
        8234_u32, 8235, 8236, 8237, 8238, 8294, 8295, 8296, 8297, 8232, 8233,
    ] {
        refused.push(format!(
            "UPDATE spaces SET name = 'admin' || char({c}) || 'txt'"
        ));
    }
    for sql in &refused {
        let message = match sqlx::query(sql).execute(&mut connection).await {
            Ok(_) => panic!("{sql} was accepted"),
            Err(error) => error.to_string(),
        };
        assert!(message.contains("spaces_name_valid"), "{sql}: {message}");
    }
    let message = sqlx::query(
        "INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, secret_hash)
         VALUES (randomblob(16), NULL, 'admin', 'a' || char(8238) || 'b', 0, 'system', '$argon2id$x')",
    )
    .execute(&mut connection)
    .await
    .expect_err("a bidirectional override in a token name is refused")
    .to_string();
    assert!(message.contains("api_tokens_name_valid"), "{message}");
    // What the domain accepts still passes, up to its limits.
    for name in [
        "😀".repeat(100),
        "\u{200b}visible".to_owned(),
        "👩\u{200d}💻".to_owned(),
    ] {
        sqlx::query("UPDATE spaces SET name = ?")
            .bind(&name)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
    }
}
