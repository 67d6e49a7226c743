//! Runs the simulator until killed, for trying it by hand before `baton-local sim cloudflare` is at hand:
//! `cargo run -p baton-sim-cloudflare --example sim -- --port 8788 [--token T] [--account A] [--step-delay-ms N]`.

use std::time::Duration;

use baton_sim_cloudflare::SimConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = SimConfig::default();
    let mut port = 8788;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--port" => port = value.parse()?,
            "--token" => config.api_token = value,
            "--account" => config.account_id = value,
            "--step-delay-ms" => config.step_delay = Duration::from_millis(value.parse()?),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let sim = baton_sim_cloudflare::start(config, port).await?;
    println!("CLOUDFLARE_API_BASE_URL={}", sim.url());
    println!(
        "sites: http://<project>.localhost:{}/  admin: {}/__admin/state",
        sim.port(),
        sim.base_url()
    );
    std::future::pending::<()>().await;
    Ok(())
}
