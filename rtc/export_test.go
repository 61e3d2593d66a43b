package rtc

// For the external tests (package rtc_test).
const OfferSDPForTests = testOfferSDP
