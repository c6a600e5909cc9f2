//! The admin console over plain HTTP, as a browser without JavaScript would use it: cookies and
//! form fields by hand, forms sent from the console's own origin. For scenarios that need a
//! console session but not a browser (secret hygiene, several nodes); the browser tests are in
//! `console/`.

use reqwest::StatusCode;

use crate::support::App;

/// A signed-in console session against one server.
pub struct ConsoleClient {
    base: String,
    http: reqwest::Client,
    session: String,
}

/// A page as the console answered it.
pub struct ConsolePage {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl ConsolePage {
    /// The value of the first `<input name="{name}" value="...">`.
    pub fn field(&self, name: &str) -> String {
        value_after(&self.body, &format!("name=\"{name}\" value=\"")).unwrap_or_else(|| {
            panic!("no field {name} on the page ({})", self.status);
        })
    }

    /// The secret shown once, if the page shows one.
    pub fn secret(&self) -> Option<String> {
        value_after(&self.body, "id=\"secret\" value=\"")
    }
}

fn value_after(body: &str, marker: &str) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

impl ConsoleClient {
    /// Signs in to `app`'s console with `token`; panics unless a session began.
    pub async fn sign_in(app: &App, token: &str) -> Self {
        Self::sign_in_at(&app.base, token).await
    }

    /// Signs in to the console at `base` with `token`.
    pub async fn sign_in_at(base: &str, token: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let form = http
            .get(format!("{base}/admin/sign-in"))
            .send()
            .await
            .unwrap();
        let pre = cookie(&form, "tollgate_sign_in").expect("the sign-in form sets its cookie");
        let csrf = value_after(&form.text().await.unwrap(), "name=\"csrf\" value=\"").unwrap();
        let signed_in = http
            .post(format!("{base}/admin/sign-in"))
            .header("origin", base)
            .header("cookie", pre)
            .form(&[("csrf", csrf.as_str()), ("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        let session = cookie(&signed_in, "tollgate_session").expect("a session cookie");
        Self {
            base: base.to_owned(),
            http,
            session,
        }
    }

    /// The same session against another node.
    pub fn on(&self, base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: self.http.clone(),
            session: self.session.clone(),
        }
    }

    async fn read(response: reqwest::Response) -> ConsolePage {
        ConsolePage {
            status: response.status(),
            location: response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> ConsolePage {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.session)
            .send()
            .await
            .unwrap();
        Self::read(response).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> ConsolePage {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("origin", &self.base)
            .header("cookie", &self.session)
            .form(form)
            .send()
            .await
            .unwrap();
        Self::read(response).await
    }

    /// Creates a client token in `space` through the New API token form; its string, read
    /// from the page that shows it once.
    pub async fn create_client_token(&self, space: &str, name: &str) -> String {
        let form = self.get(&format!("/admin/spaces/{space}/tokens/new")).await;
        let created = self
            .post(
                &format!("/admin/spaces/{space}/tokens"),
                &[
                    ("csrf", &form.field("csrf")),
                    ("nonce", &form.field("nonce")),
                    ("name", name),
                    ("level", "client"),
                    ("expiry", "30"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::OK);
        created.secret().expect("the new token is shown once")
    }
}
