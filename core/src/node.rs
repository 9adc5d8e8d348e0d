//! The node: a device, the node's own protocols (name-ARP, ARP, data: see
//! [`station`](crate::station) for their rules), and the further protocols
//! it hosts ([`Service`]s: the reliable transfer, presence, an ARP scan),
//! run by one loop.
//!
//! The node is a state machine driven by [`Node::poll`], which the caller
//! invokes with the current time whenever a frame may have arrived or the
//! deadline returned by the previous poll has passed; [`Node::run`] is that
//! loop, on any [`Clock`]. Each event goes to the application's
//! [`Handler`] together with a [`Context`] through which the handler acts
//! at once: answer the sender of a message, resolve a name, send. Every
//! event gets its own reaction, however many arrive in one poll.
//!
//! The node keeps its storage in [`Resources`] it borrows, sized where the
//! node is built, and allocates nothing.

use core::ops::{Deref, DerefMut};

use crate::device::LinkDevice;
use crate::runtime::{Clock, Context, Flow, Handler, NodeEvent};
use crate::service::Service;
use crate::station::{Config, Resources, State, Station};
use crate::time::{self, Instant};
use crate::wire::ethernet::MAX_BUFFERED_FRAME_LEN;
use crate::wire::{EtherType, Name};

/// Frames handled per [`Node::poll`] before timers get their turn, so a flood
/// cannot starve retries.
const RX_BUDGET: usize = 64;

/// A station on an Ethernet segment known by its name (and, optionally, by
/// IPv4 addresses), on the device `D`, hosting the services `S` (`()` for
/// none; a tuple for several), with its storage borrowed from
/// [`Resources`] for `'r`.
///
/// It dereferences to its [`State`] for reading (name, counters, caches);
/// [`at`](Self::at) gives the [`Station`] through which to act outside a
/// handler.
pub struct Node<'r, D: LinkDevice, S = ()> {
    device: D,
    rx_buffer: &'r mut [u8; MAX_BUFFERED_FRAME_LEN],
    state: State<'r>,
    services: S,
}

impl<'r, D: LinkDevice, S: Default> Node<'r, D, S> {
    /// A node called `name` on `device`, storing what it learns in
    /// `resources`, with default services (none, for `S = ()`).
    pub fn new<const N: usize, const NR: usize, const A: usize, const AR: usize, const Q: usize>(
        device: D,
        name: Name,
        config: Config,
        resources: &'r mut Resources<N, NR, A, AR, Q>,
    ) -> Self {
        Self::with_services(device, name, config, resources, S::default())
    }
}

impl<'r, D: LinkDevice, S> Node<'r, D, S> {
    /// A node called `name` on `device`, storing what it learns in
    /// `resources`, hosting `services`. Resources another node used are
    /// emptied first.
    pub fn with_services<const N: usize, const NR: usize, const A: usize, const AR: usize, const Q: usize>(
        device: D,
        name: Name,
        config: Config,
        resources: &'r mut Resources<N, NR, A, AR, Q>,
        services: S,
    ) -> Self {
        let (state, rx_buffer) = resources.take(device.mac_address(), name, config);
        Node { device, rx_buffer, state, services }
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The device, mutably (for backend-specific calls).
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// The hosted services.
    pub fn services(&self) -> &S {
        &self.services
    }

    /// The hosted services, mutably.
    pub fn services_mut(&mut self) -> &mut S {
        &mut self.services
    }

    /// Gives the device back.
    pub fn into_device(self) -> D {
        self.device
    }

    /// Gives the device and the services back.
    pub fn into_parts(self) -> (D, S) {
        (self.device, self.services)
    }

    /// The node at `now`, to act outside a handler (sending the first
    /// message, starting a resolution): what a handler's context holds.
    pub fn at(&mut self, now: Instant) -> Station<'_, D> {
        Station::new(&mut self.device, self.state.reborrow(), now)
    }

    /// The node at `now` with its services: what a handler gets.
    pub fn context(&mut self, now: Instant) -> Context<'_, D, S> {
        Context::new(Station::new(&mut self.device, self.state.reborrow(), now), &mut self.services)
    }
}

impl<'r, D: LinkDevice, S> Deref for Node<'r, D, S> {
    type Target = State<'r>;

    fn deref(&self) -> &State<'r> {
        &self.state
    }
}

impl<'r, D: LinkDevice, S> DerefMut for Node<'r, D, S> {
    fn deref_mut(&mut self) -> &mut State<'r> {
        &mut self.state
    }
}

impl<D: LinkDevice, S: Service> Node<'_, D, S> {
    /// Processes received frames and timers, handing each event to
    /// `handler` with a [`Context`] to act through.
    ///
    /// Returns when the node next needs polling even if no frame arrives:
    /// `None` means only when a frame arrives, `Some(t)` with `t <= now`
    /// means poll again right away (frames are left, or work is waiting for
    /// the device: see [`State::is_tx_blocked`]).
    pub fn poll<H: Handler<D, S>>(&mut self, now: Instant, handler: &mut H) -> Result<Option<Instant>, D::Error> {
        let Node { device, rx_buffer, state, services } = self;
        state.begin_poll();
        let mut frames_left = true;
        for _ in 0..RX_BUDGET {
            let len = match device.receive(&mut rx_buffer[..]) {
                Ok(len) => len,
                Err(nb::Error::WouldBlock) => {
                    frames_left = false;
                    break;
                }
                Err(nb::Error::Other(err)) => return Err(err),
            };
            let Some(header) = state.admit(&rx_buffer[..], len) else { continue };
            let frame = &rx_buffer[..len];
            let own = matches!(header.ethertype, EtherType::NAME_ARP | EtherType::DATA)
                || (cfg!(feature = "ipv4") && header.ethertype == EtherType::ARP)
                || (cfg!(feature = "ipv6") && header.ethertype == EtherType::IPV6);
            // The node's own event is built as the handler hears it (no
            // conversion on the way): it borrows the frame until handled.
            let event: Option<NodeEvent<'_, S>> = if own { state.process(device, now, &header, frame)? } else { None };
            if services.accepts(header.ethertype) {
                services.receive(&mut Station::new(device, state.reborrow(), now), &header, frame)?;
            } else if !own {
                state.count_foreign();
            }
            // Moved whole (`{ event }`): nothing of the frame is borrowed after.
            if let Some(event) = { event } {
                services.on_node_event(&mut Station::new(device, state.reborrow(), now), &event)?;
                let mut ctx = Context::new(Station::new(device, state.reborrow(), now), services);
                handler.on_event(&mut ctx, event);
            }
            drain_services(device, rx_buffer, state, services, now, handler);
        }
        while let Some(event) = state.next_timer_event(device, now)? {
            services.on_node_event(&mut Station::new(device, state.reborrow(), now), &event)?;
            handler.on_event(&mut Context::new(Station::new(device, state.reborrow(), now), services), event);
        }
        let wanted = handler.on_poll(&mut Context::new(Station::new(device, state.reborrow(), now), services));
        // Services send what is due, including what the handler just gave
        // them; whatever a late event makes the handler give them shows in
        // `poll_at` as due now.
        services.poll(&mut Station::new(device, state.reborrow(), now))?;
        drain_services(device, rx_buffer, state, services, now, handler);
        let queue_left = state.flush_queue(device, now)?;
        // Everything this poll sent leaves now (devices may batch).
        match device.flush() {
            Ok(()) => {}
            Err(nb::Error::WouldBlock) => state.flush_refused(),
            Err(nb::Error::Other(err)) => return Err(err),
        }
        let next = time::earliest(time::earliest(state.next_deadline(), services.poll_at()), wanted);
        Ok(if frames_left || queue_left { Some(now) } else { next })
    }

    /// Runs the node on `clock` until the handler calls
    /// [`Station::stop`] (through its context) or the clock's time ends (a
    /// replayed capture is exhausted and no timer is left).
    ///
    /// Between polls it sleeps through the clock: until a frame may have
    /// arrived or the next deadline, and, when the device refused a frame,
    /// until it has room again, so a full transmit queue costs no CPU.
    pub fn run<K, H>(&mut self, clock: &mut K, handler: &mut H) -> Result<(), D::Error>
    where
        K: Clock<D>,
        H: Handler<D, S>,
    {
        self.state.take_stop();
        loop {
            let now = clock.now(&self.device);
            let next = self.poll(now, handler)?;
            if self.state.take_stop() {
                return Ok(());
            }
            let blocked = self.state.is_tx_blocked();
            let due = next.filter(|&next| next > now || !blocked);
            if due.is_some_and(|due| due <= now) {
                continue;
            }
            if clock.wait(&mut self.device, due, blocked)? == Flow::End {
                return Ok(());
            }
        }
    }
}

/// Hands every event the services have ready to `handler`.
fn drain_services<D: LinkDevice, S: Service, H: Handler<D, S>>(
    device: &mut D,
    scratch: &mut [u8; MAX_BUFFERED_FRAME_LEN],
    state: &mut State<'_>,
    services: &mut S,
    now: Instant,
    handler: &mut H,
) {
    while let Some(event) = services.next_event(scratch) {
        let mut ctx = Context::new(Station::new(device, state.reborrow(), now), services);
        handler.on_event(&mut ctx, crate::station::Event::Service(event));
    }
}
