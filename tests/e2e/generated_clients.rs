//! A client generated from the server's own `/openapi.json` by a generator nobody on the
//! project wrote, openapi-python-client (pinned in scripts/lib/clients.sh, installed by
//! scripts/test into .venv-clients), then used alone against the server:
//! tests/clients/python/scenario.py creates, lists page by page, filters by status, rotates
//! with no body, revokes, and reads a 422 and a 409 as the generated `Problem`. A document that
//! does not describe the server breaks the generation, the import or a call.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;

use crate::support::{spawn_app, Store};

const INSTALL: &str = "openapi-python-client is not installed in .venv-clients: scripts/test \
    installs it, or run: bash -c 'source scripts/lib/clients.sh && ensure_openapi_python_client'";

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv_tool(name: &str) -> PathBuf {
    let tool = repository().join(".venv-clients/bin").join(name);
    assert!(tool.exists(), "{INSTALL} ({} is missing)", tool.display());
    tool
}

fn run(command: &mut Command, what: &str) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_generated_from_the_document_does_the_whole_scenario() {
    let generator = venv_tool("openapi-python-client");
    let python = venv_tool("python");
    let app = spawn_app(Store::Memory).await;
    let document = app
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(document.status, StatusCode::OK);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, serde_json::to_vec(&document.body).unwrap()).unwrap();
    let clients = repository().join("tests/clients/python");
    let generated = run(
        Command::new(&generator)
            .arg("generate")
            .arg("--path")
            .arg(&path)
            .args(["--meta", "none", "--output-path"])
            .arg(dir.path().join("tollgate_client"))
            .arg("--config")
            .arg(clients.join("config.yaml")),
        "openapi-python-client generate",
    );
    // It warns about what it cannot model, and skips it: the document must give it nothing
    // to skip.
    assert!(
        !generated.contains("Warning") && !generated.contains("Unable"),
        "{generated}"
    );

    let said = run(
        Command::new(&python)
            .arg(clients.join("scenario.py"))
            .env("PYTHONPATH", dir.path())
            .env("TOLLGATE_URL", &app.base)
            .env("TOLLGATE_TOKEN", &app.admin)
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "the generated client's scenario",
    );
    assert!(said.contains("generated client scenario: ok"), "{said}");
}
