//! `whohas receive`: accepts reliable transfers. Files go to a directory:
//! written under a temporary name, checked against the size and SHA-256 the
//! sender offered, then linked under their own name (never over an existing
//! file, never outside the directory) and the sender told the verdict.
//! Messages are printed. One line per file or message; until SIGINT/SIGTERM.

use std::path::PathBuf;

use super::device::{self, Device, Keyed, Open, Via};
use super::files::{Inbox, Reception};
use super::report::Report;
use super::{Failure, Global, Station, TransferArgs, signals};
use crate::Name;
use crate::host::WaitMode;
use crate::node::Node;
use crate::runtime::{Context, Handler};
use crate::station::Event;
use crate::storage::{HostResources, ReceiverTransfer};
use crate::transfer::TransferEvent;

/// `whohas receive` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Who this station is.
    #[command(flatten)]
    pub station: Station,
    /// Where received files go.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Accept transfers only from these stations.
    #[arg(long, value_delimiter = ',', value_name = "NAME[,NAME...]")]
    pub accept: Vec<Name>,
    /// Transfer settings.
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// How frames reach the interface.
    #[arg(long, value_enum, default_value_t)]
    pub via: Via,
}

/// The receiving application: what is sent to the station, reported.
struct Receiver {
    reception: Reception,
    json: bool,
    failure: Option<Failure>,
}

impl<'t> Handler<Device, &'t mut ReceiverTransfer> for Receiver {
    fn on_event(
        &mut self,
        ctx: &mut Context<'_, Device, &'t mut ReceiverTransfer>,
        event: Event<'_, TransferEvent<'_>>,
    ) {
        let report = match event.node_event() {
            Ok(Event::Answered { .. }) => None,
            Ok(own) => Some(Report::of(own, &ctx.name().clone())),
            Err(event) => self.reception.handle(ctx.services(), &event),
        };
        if let Some(Err(failure)) = report.map(|report| report.print(self.json)) {
            self.failure.get_or_insert(failure);
            ctx.stop();
        }
    }
}

/// Runs `whohas receive`.
pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let inbox = Inbox::new(&args.dir)?;
    let interface = device::interface(global)?;
    let device =
        device::open(&interface, args.via, &Open { key: args.station.key()?, json: global.json, ..Open::default() })?;
    let mut transfer: Box<ReceiverTransfer> = args.transfer.service(&device);
    let mut resources = HostResources::new();
    let mut node: Node<Device, &mut ReceiverTransfer> =
        Node::with_services(device, args.station.name()?, args.station.config(), &mut resources, &mut transfer);
    let reception = Reception::new(Ok(inbox), args.accept.clone());
    let mut receiver = Receiver { reception, json: global.json, failure: None };
    let listening = Report::Listening {
        name: node.name().to_string(),
        interface: interface.name.clone(),
        mac: node.mac_address().to_string(),
    };
    listening.print(global.json)?;
    let outcome = node.run(&mut signals::clock(WaitMode::Block), &mut receiver);
    if let Some(failure) = receiver.failure.take() {
        return Err(failure);
    }
    outcome?;
    super::output::stats(node.stats(), Some(&receiver.reception)).print(global.json)?;
    match node.device().auth_stats() {
        Some(auth) => device::keyed(&auth).print(global.json),
        None => Ok(()),
    }
}
