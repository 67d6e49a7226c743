//! Headless Chromium for the browser tests: DOM dumps, screenshots, and the text a reader sees.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// Headless Chromium (Debian's `chromium` package), run as a browser would load a page.
pub struct Chromium {
    binary: PathBuf,
}

static PROFILES: AtomicU32 = AtomicU32::new(0);

impl Chromium {
    /// Finds `chromium` on the PATH; an error (never a skip) if it is not installed.
    pub fn find() -> Result<Chromium> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
            .find(|p| p.is_file())
            .map(|binary| Chromium { binary })
            .ok_or_else(|| {
                anyhow!(
                    "headless Chromium is needed for the browser tests and is not installed: \
                     apt-get update && apt-get install -y chromium"
                )
            })
    }

    /// Runs Chromium with `args` and a fresh profile; its stdout.
    async fn run(&self, args: Vec<String>) -> Result<String> {
        let profile = std::env::temp_dir().join(format!(
            "baton-chromium-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::SeqCst)
        ));
        let binary = self.binary.clone();
        let output = tokio::task::spawn_blocking(move || -> Result<String> {
            let mut child = Command::new(&binary)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                ])
                .arg(format!("--user-data-dir={}", profile.display()))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {}", binary.display()))?;
            let deadline = Instant::now() + Duration::from_secs(90);
            while child.try_wait()?.is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!("chromium did not finish within 90 s: {args:?}");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let out = child.wait_with_output()?;
            let _ = std::fs::remove_dir_all(&profile);
            if !out.status.success() {
                bail!("chromium failed ({}) for {args:?}", out.status);
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        })
        .await??;
        Ok(output)
    }

    /// The page's DOM after loading, as the browser serialises it.
    pub async fn dump_dom(&self, url: &str) -> Result<String> {
        self.run(vec!["--dump-dom".into(), url.into()]).await
    }

    /// A screenshot of `url` at 1280x1600, saved under `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, url: &str, name: &str) -> Result<PathBuf> {
        self.screenshot_at(url, name, (1280, 1600)).await
    }

    /// A screenshot of `url` in a window of `(width, height)` pixels, saved under
    /// `target/screenshots/<name>.png`.
    pub async fn screenshot_at(&self, url: &str, name: &str, (width, height): (u32, u32)) -> Result<PathBuf> {
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let file = dir.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&file);
        self.run(vec![
            format!("--screenshot={}", file.display()),
            format!("--window-size={width},{height}"),
            url.into(),
        ])
        .await?;
        if !file.is_file() {
            bail!("chromium wrote no screenshot at {}", file.display());
        }
        Ok(file)
    }
}

/// How a page lays out in a window `width` pixels wide: the document's scroll width, and the
/// widest overflow of any table, table cell or scroll box (what a reader would have to scroll
/// sideways to see), with which element it is.
#[derive(Debug)]
pub struct Widths {
    /// `document.documentElement.scrollWidth`.
    pub document: u32,
    /// The largest `scrollWidth - clientWidth` of a table, cell, scroll box or `main`.
    pub overflow: u32,
    /// The element with that overflow, e.g. `TD.key`.
    pub overflow_at: String,
}

/// Measures the page in a file copy: the pages' CSP lets no script run (rightly), so the
/// measuring script runs in a copy of the same markup and stylesheet, in an iframe exactly as
/// wide as asked (headless Chromium's own window is at least 500 px wide), and writes what it
/// measured onto the outer document, which is what `--dump-dom` prints.
const MEASURE: &str = "<script>(function(){var worst=0,what='';\
document.querySelectorAll('main,table,.scroll,td,th').forEach(function(e){\
if(e.closest('thead')||e.closest('.sr-only'))return;var o=e.scrollWidth-e.clientWidth;\
if(o>worst){worst=o;what=e.tagName+'.'+e.className;}});\
var b=parent.document.body;b.setAttribute('data-document-width',document.documentElement.scrollWidth);\
b.setAttribute('data-viewport-width',window.innerWidth);\
b.setAttribute('data-overflow',worst);b.setAttribute('data-overflow-at',what);})();</script>";

impl Chromium {
    /// Lays `html` (a whole page as Baton serves it) out `width` pixels wide and measures it.
    pub async fn widths(&self, html: &str, width: u32) -> Result<Widths> {
        let file = std::env::temp_dir().join(format!(
            "baton-measure-{}-{}.html",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::SeqCst)
        ));
        let page = html
            .replacen("</body>", &format!("{MEASURE}</body>"), 1)
            .replace('&', "&amp;")
            .replace('"', "&quot;");
        let outer = format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe style=\"border:0\" width=\"{width}\" height=\"1800\" srcdoc=\"{page}\"></iframe></body></html>"
        );
        std::fs::write(&file, outer)?;
        let dom = self
            .run(vec![
                "--window-size=1280,1800".into(),
                "--dump-dom".into(),
                format!("file://{}", file.display()),
            ])
            .await;
        let _ = std::fs::remove_file(&file);
        let dom = dom?;
        let attribute = |name: &str| -> Result<String> {
            let start = dom
                .find(&format!("{name}=\""))
                .map(|at| at + name.len() + 2)
                .ok_or_else(|| anyhow!("the measuring script did not run: no {name} in {dom}"))?;
            let end = dom[start..].find('"').ok_or_else(|| anyhow!("unclosed {name}"))?;
            Ok(dom[start..start + end].to_string())
        };
        let viewport: u32 = attribute("data-viewport-width")?.parse()?;
        if viewport != width {
            bail!("the page was laid out {viewport} px wide, not {width}");
        }
        Ok(Widths {
            document: attribute("data-document-width")?.parse()?,
            overflow: attribute("data-overflow")?.parse()?,
            overflow_at: attribute("data-overflow-at")?,
        })
    }
}

/// `target/screenshots` of this workspace (or of `CARGO_TARGET_DIR`).
pub fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| baton_local::repository_root().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        baton_local::repository_root().join(target)
    };
    target.join("screenshots")
}

/// The text of a DOM dump with tags removed and whitespace collapsed, for assertions on what a
/// reader sees.
pub fn visible_text(dom: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    let mut skip_until: Option<&str> = None;
    let mut rest = dom;
    while let Some(c) = rest.chars().next() {
        if let Some(end) = skip_until {
            match rest.find(end) {
                Some(at) => rest = &rest[at + end.len()..],
                None => break,
            }
            skip_until = None;
            continue;
        }
        if rest.starts_with("<style") {
            skip_until = Some("</style>");
            continue;
        }
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
        rest = &rest[c.len_utf8()..];
    }
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A path under the screenshots folder, shown relative to the repository for messages.
pub fn shown(path: &Path) -> String {
    path.strip_prefix(baton_local::repository_root())
        .unwrap_or(path)
        .display()
        .to_string()
}
