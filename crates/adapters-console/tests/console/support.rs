//! A console over a fresh in-memory core, and a tiny browser: one cookie jar, forms sent from
//! the console's own origin unless a test says otherwise.

use std::net::SocketAddr;

use axum::body::{to_bytes, Body};
use axum::extract::connect_info::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use tollgate_app::testing::TestCore;
use tollgate_console::{router, ConsoleConfig, ConsoleState};
use tollgate_domain::{LifetimePolicy, SessionTimeouts};
use tower::ServiceExt;

pub const HOST: &str = "console.test";
pub const ORIGIN: &str = "http://console.test";

pub struct TestConsole {
    pub core: TestCore,
    pub router: Router,
    /// An instance admin token string.
    pub admin: String,
}

#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    pub fn location(&self) -> &str {
        self.header("location")
    }

    /// The value of the first `<input name="{name}" ... value="...">` on the page.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} on the page:\n{}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }

    /// The value of the element with `id="{id}" ... value="..."`.
    pub fn value_of(&self, id: &str) -> Option<String> {
        let marker = format!("id=\"{id}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }

    /// The `name=value` of the first `Set-Cookie` naming `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_owned())
    }

    /// The whole `Set-Cookie` line naming `name`.
    pub fn set_cookie_line(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with(&format!("{name}=")))
    }
}

impl TestConsole {
    pub async fn new() -> Self {
        Self::with(ConsoleConfig::default(), None, SessionTimeouts::DEFAULT).await
    }

    pub async fn with(
        config: ConsoleConfig,
        lifetime: Option<LifetimePolicy>,
        timeouts: SessionTimeouts,
    ) -> Self {
        let mut core = TestCore::new();
        if let Some(policy) = lifetime {
            core.tokens = core.tokens.clone().with_lifetime_policy(policy);
        }
        let admin = core
            .tokens
            .ensure_instance_admin()
            .await
            .unwrap()
            .unwrap()
            .secret()
            .expose()
            .to_owned();
        let sessions = core.session_service().with_timeouts(timeouts);
        let state = ConsoleState::new(core.spaces.clone(), core.tokens.clone(), sessions, config);
        Self {
            router: router(state),
            core,
            admin,
        }
    }

    async fn send(&self, request: Request<Body>) -> Page {
        let mut request = request;
        request.extensions_mut().insert(ConnectInfo(
            "192.0.2.10:40000".parse::<SocketAddr>().unwrap(),
        ));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        Page {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::HOST, HOST);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// A form POST from `origin` (`None`: no Origin header at all).
    pub async fn post_from(
        &self,
        origin: Option<&str>,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    pub async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
        self.post_from(Some(ORIGIN), path, cookie, form).await
    }

    /// Signs in with `token` as a browser would (the form's page first, for its cookie and
    /// CSRF token); the answer and the session cookie, if one was set.
    pub async fn try_sign_in(&self, token: &str) -> (Page, Option<String>) {
        let form = self.get("/admin/sign-in", None).await;
        let pre = form.cookie("tollgate_sign_in").unwrap();
        let csrf = form.field("csrf");
        let page = self
            .post(
                "/admin/sign-in",
                Some(&pre),
                &[("csrf", &csrf), ("token", token)],
            )
            .await;
        let cookie = page.cookie("tollgate_session");
        (page, cookie)
    }

    pub async fn sign_in(&self, token: &str) -> String {
        let (page, cookie) = self.try_sign_in(token).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        cookie.unwrap()
    }

    pub async fn create_space(&self, name: &str) -> String {
        let actor = tollgate_domain::Actor::InstanceAdmin {
            token_id: tollgate_domain::TokenId::from_uuid(uuid::Uuid::nil()),
        };
        self.core
            .spaces
            .create(
                &actor,
                tollgate_app::NewSpace {
                    name: tollgate_domain::SpaceName::parse(name).unwrap(),
                },
            )
            .await
            .unwrap()
            .id
            .to_string()
    }

    /// The CSRF token of the signed-in page at `path`.
    pub async fn csrf(&self, cookie: &str, path: &str) -> String {
        self.get(path, Some(cookie)).await.field("csrf")
    }
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for byte in s.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}
