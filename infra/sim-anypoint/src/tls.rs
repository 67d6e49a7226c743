//! TLS for the simulator. anypoint-cli-v4 builds every URL as `https://{host}`, so the fidelity
//! suite needs the simulator to speak TLS; Baton's own tests keep using plain http.
//!
//! At start the simulator generates a throwaway certificate authority and a server certificate
//! signed by it (rcgen). The CA's PEM is handed to the caller, who trusts it explicitly (for Node:
//! `NODE_EXTRA_CA_CERTS`) instead of turning verification off.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A client that connects and never finishes its handshake is dropped after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the certificate or the TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up TLS: {0}")]
pub struct TlsError(String);

/// A generated certificate authority and the server configuration using a certificate it signed.
pub(crate) struct TlsIdentity {
    /// The CA certificate, PEM: what clients must trust.
    pub(crate) ca_pem: String,
    pub(crate) server_config: Arc<rustls::ServerConfig>,
}

/// Generates a CA and a server certificate valid for `localhost`, `127.0.0.1` and `hostnames`.
pub(crate) fn generate(hostnames: &[&str]) -> Result<TlsIdentity, TlsError> {
    let error = |e: rcgen::Error| TlsError(e.to_string());
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(error)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Baton Anypoint simulator CA (generated at start)");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(error)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(error)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    names.extend(hostnames.iter().map(|h| h.to_string()));
    let mut server_params = CertificateParams::new(names).map_err(error)?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "Baton Anypoint simulator");
    let server_key = KeyPair::generate().map_err(error)?;
    let server_cert = server_params.signed_by(&server_key, &issuer).map_err(error)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let chain: Vec<CertificateDer<'static>> = vec![server_cert.der().clone(), ca_cert.der().clone()];
    // An explicit provider: the workspace may compile both ring and aws-lc into rustls, and then
    // the process-wide default is ambiguous.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        ca_pem: ca_cert.pem(),
        server_config: Arc::new(config),
    })
}

/// A listener handing axum connections whose TLS handshake has finished. Handshakes run in their
/// own tasks so one slow client does not hold up the others.
pub(crate) struct TlsListener {
    local_addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor_task: JoinHandle<()>,
}

impl TlsListener {
    /// Wraps a bound TCP listener.
    pub(crate) fn new(tcp: TcpListener, local_addr: SocketAddr, config: Arc<rustls::ServerConfig>) -> Self {
        let acceptor = TlsAcceptor::from(config);
        let (sender, ready) = mpsc::channel(64);
        let acceptor_task = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait a little, as axum does.
                        tracing::warn!(%error, "Anypoint simulator: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let sender = sender.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = sender.send((tls, peer)).await;
                        }
                        Ok(Err(error)) => tracing::info!(%error, %peer, "Anypoint simulator: TLS handshake failed"),
                        Err(_) => tracing::info!(%peer, "Anypoint simulator: TLS handshake timed out"),
                    }
                });
            }
        });
        Self {
            local_addr,
            ready,
            acceptor_task,
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The acceptor task only ends when aborted, i.e. when the server stops: wait forever.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_ca_and_a_server_configuration() {
        let identity = generate(&["anypoint.mulesoft.com"]).expect("generated");
        assert!(identity.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(identity.server_config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
