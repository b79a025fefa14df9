//! Just enough of a W3C WebDriver client to drive headless Chromium through `chromedriver`
//! (Debian's `chromium` and `chromium-driver`, which `scripts/test-all` installs): open pages,
//! find elements by CSS selector, click, type, read text, run a script, take screenshots. Every
//! wait polls with a deadline.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const WAIT: Duration = Duration::from_secs(20);

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
}

fn program(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|c| c.to_string())
}

fn which(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Headless Chromium at `width`×`height`. Fails (does not skip) when Chromium or its driver is
    /// missing: the test command installs both.
    pub fn start(width: u32, height: u32) -> Browser {
        let driver_bin = program(&["chromedriver", "/usr/bin/chromedriver"]).expect(
            "chromedriver is missing: run scripts/test-all, or apt-get install chromium chromium-driver",
        );
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut options = json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--window-size={width},{height}")]
        });
        // chromedriver looks for Google Chrome; Debian's browser is `chromium`, by absolute path.
        if let Some(chromium) = which("chromium") {
            options["binary"] = json!(chromium);
        }
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}});
        let created = browser.command("POST", "/session", Some(caps));
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let request = ureq::request(method, &url).timeout(Duration::from_secs(60));
        let reply = match body {
            Some(b) => request.send_json(b),
            None => request.call(),
        };
        match reply {
            Ok(r) => r.into_json::<Value>().expect("webdriver json")["value"].take(),
            Err(ureq::Error::Status(_, r)) => {
                let v: Value = r.into_json().unwrap_or(Value::Null);
                json!({"error": v["value"]["error"], "message": v["value"]["message"]})
            }
            Err(e) => panic!("webdriver {method} {path}: {e}"),
        }
    }

    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    /// The first element matching `css`, if any.
    pub fn find(&self, css: &str) -> Option<String> {
        let v = self.command(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT].as_str().map(str::to_owned)
    }

    fn try_click(&self, element: &str) -> bool {
        let v = self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
        v.get("error").is_none()
    }

    /// Clicks the element matching `css`, waiting for it. A live redraw may replace the element
    /// between finding and clicking it, so a click on a stale element is tried again.
    pub fn click_on(&self, css: &str) {
        self.wait(&format!("to click {css}"), |b| {
            b.find(css).filter(|e| b.try_click(e)).map(|_| ())
        });
    }

    pub fn type_text(&self, element: &str, text: &str) {
        let v = self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
        assert!(v.get("error").is_none(), "typing failed: {v}");
    }

    pub fn text(&self, element: &str) -> String {
        self.command("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` in the page (`return ...` gives a value back).
    pub fn script(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Runs `script` as an async script: it ends by calling `arguments[0]` with its result.
    pub fn script_async(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Polls `check` until it gives a value, or panics naming `what` after 20 s.
    pub fn wait<T>(&self, what: &str, mut check: impl FnMut(&Browser) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            if Instant::now() > deadline {
                let page = self.script("return document.body.innerText");
                panic!("timed out waiting for {what}; the page shows:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for an element matching `css` and returns it.
    pub fn wait_for(&self, css: &str) -> String {
        self.wait(&format!("an element {css}"), |b| b.find(css))
    }

    /// Waits until the element matching `css` shows `text` (the whole text, or within it).
    pub fn wait_for_text(&self, css: &str, text: &str) -> String {
        self.wait(&format!("{css} to show '{text}'"), |b| {
            b.find(css).filter(|e| b.text(e).contains(text))
        })
    }

    /// Waits until the element matching `css` shows every one of `parts`, and returns its text.
    /// Found and read in one go, so a live redraw in between only means another try.
    pub fn text_with(&self, css: &str, parts: &[&str]) -> String {
        self.wait(&format!("{css} to show {parts:?}"), |b| {
            let text = b.find(css).map(|e| b.text(&e))?;
            parts.iter().all(|p| text.contains(p)).then_some(text)
        })
    }

    pub fn screenshot(&self, path: &std::path::Path) {
        let v = self.command("GET", "/screenshot", None);
        let png = aws_smithy_types::base64::decode(v.as_str().expect("screenshot data"))
            .expect("base64 screenshot");
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session))
                .timeout(Duration::from_secs(10))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
