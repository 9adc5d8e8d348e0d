//! embassy-net on a whohas link device: whohas' AF_PACKET device under
//! [`LinkDriver`], woken by the socket's readiness (async-io), carrying
//! embassy-net's IPv4 at ADDRESS/LEN. It answers ARP and ping, and echoes
//! UDP datagrams to port 7.
//!
//! ```text
//! net_over_link INTERFACE ADDRESS/LEN
//! ```

use std::os::fd::{AsFd, OwnedFd};
use std::task::Context;

use async_io::Async;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{Config, Ipv4Cidr, StackResources, StaticConfigV4};
use whohas_embassy::{LinkDriver, Readiness};
use whohas_hal_linux::{AfPacketDevice, Options};

/// The driver: AF_PACKET, woken when its socket is readable.
type Driver = LinkDriver<AfPacketDevice, Readable>;

/// The AF_PACKET socket's readiness, from async-io's reactor.
struct Readable(Async<OwnedFd>);

impl Readiness for Readable {
    fn register(&mut self, cx: &mut Context<'_>) {
        // Ready already: a frame came since the device looked.
        if self.0.poll_readable(cx).is_ready() {
            cx.waker().wake_by_ref();
        }
    }
}

fn fail(what: &str, err: impl std::fmt::Display) -> ! {
    eprintln!("net_over_link: {what}: {err}");
    std::process::exit(2)
}

#[embassy_executor::task]
async fn run_stack(mut runner: embassy_net::Runner<'static, Driver>) -> ! {
    runner.run().await
}

#[embassy_executor::main]
async fn main(spawner: embassy_executor::Spawner) {
    env_logger::init();
    let args: Vec<String> = std::env::args().collect();
    let [_, interface, address] = &args[..] else { fail("usage", "net_over_link INTERFACE ADDRESS/LEN") };
    let address: Ipv4Cidr = address.parse().unwrap_or_else(|_| fail(address, "not an IPv4 address/len"));
    // Every frame, not only whohas' ethertypes: embassy-net wants IPv4 and ARP.
    let options = Options { ethertypes: None, ..Options::default() };
    let device = AfPacketDevice::open_with(interface, &options).unwrap_or_else(|err| fail(interface, err));
    let socket: OwnedFd = device.as_fd().try_clone_to_owned().unwrap_or_else(|err| fail("dup", err));
    let readable = Readable(Async::new(socket).unwrap_or_else(|err| fail("async-io", err)));
    let driver = LinkDriver::new(device, readable);
    let config = Config::ipv4_static(StaticConfigV4 { address, gateway: None, dns_servers: Default::default() });
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).unwrap_or_else(|err| fail("no random seed", err));
    let resources = Box::leak(Box::new(StackResources::<2>::new()));
    let (stack, runner) = embassy_net::new(driver, config, resources, u64::from_ne_bytes(seed));
    spawner.spawn(run_stack(runner)).unwrap_or_else(|err| fail("spawn", err));
    println!("embassy-net at {address} on {interface}");

    let (mut rx_meta, mut rx_data) = ([PacketMetadata::EMPTY; 8], [0u8; 4096]);
    let (mut tx_meta, mut tx_data) = ([PacketMetadata::EMPTY; 8], [0u8; 4096]);
    let mut echo = UdpSocket::new(stack, &mut rx_meta, &mut rx_data, &mut tx_meta, &mut tx_data);
    echo.bind(7).unwrap_or_else(|err| fail("bind port 7", format!("{err:?}")));
    let mut datagram = [0u8; 2048];
    loop {
        let Ok((len, from)) = echo.recv_from(&mut datagram).await else { continue };
        if echo.send_to(&datagram[..len], from).await.is_ok() {
            println!("echoed {len} bytes to {from}");
        }
    }
}
