#![no_main]
//! A file offer (a stream's opening header, from any sender) never panics
//! the parser, and what parses with a plain name encodes back to the same
//! bytes: there is one way to write each offer.

use libfuzzer_sys::fuzz_target;
use whohas::file_offer::{FileOffer, is_plain_name};

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = FileOffer::parse_fields(data) else { return };
    if is_plain_name(&offer.name) {
        assert_eq!(FileOffer::parse(data).as_ref(), Ok(&offer));
        assert_eq!(offer.encode().as_deref(), Ok(data));
    } else {
        assert!(FileOffer::parse(data).is_err());
    }
});
