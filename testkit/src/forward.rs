//! A TCP forwarder, for `sam local`: its containers run on Docker's bridge network and
//! cannot reach this machine's 127.0.0.1, where the test servers listen. The forwarder
//! listens on the bridge's gateway address (this machine's side of the bridge) and relays
//! each connection to a server on 127.0.0.1.

use std::net::{IpAddr, SocketAddr};

use tokio::net::{TcpListener, TcpStream};

/// A running forwarder; stops when dropped.
pub struct Forwarder {
    /// `http://<gateway>:<port>`, as the containers reach it.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Forwarder {
    /// Listens on `listen_ip` and relays to `target` (`http://127.0.0.1:<port>`).
    pub async fn start(listen_ip: IpAddr, target: &str) -> Self {
        let target: SocketAddr = target
            .trim_start_matches("http://")
            .parse()
            .expect("an http://ip:port URL");
        let listener = TcpListener::bind((listen_ip, 0))
            .await
            .unwrap_or_else(|e| panic!("bind {listen_ip}: {e}"));
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { url, task }
    }
}
