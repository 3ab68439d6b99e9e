/**
 * A test-only certificate authority and a certificate it signed for `receiver.test` (valid
 * until 2126), so the pinned TLS path runs against a local receiver. Never trusted outside
 * the tests that pass `testCa` as `caCerts`.
 */
export const testCa = `-----BEGIN CERTIFICATE-----
MIIBmTCCAT+gAwIBAgIUMZ1JQZpL20Ig8/mNdkHcgOAnkZkwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwObm90aWZ5IHRlc3QgQ0EwIBcNMjYxMjAyMTcxNTM2WhgPMjEy
NjExMDgxNzE1MzZaMBkxFzAVBgNVBAMMDm5vdGlmeSB0ZXN0IENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEELuKm1tlk4Td8qdsz9aZnMNlICnJvZP/s7jtJzKO
/zRSSgJyzFRP/dqUT34YM7xleccU03XHgSLDFhUhIECa/aNjMGEwHQYDVR0OBBYE
FH2fUt/FpYfZBH3gFMGQmH/mAU0YMB8GA1UdIwQYMBaAFH2fUt/FpYfZBH3gFMGQ
mH/mAU0YMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMAoGCCqGSM49
BAMCA0gAMEUCIQDkzwCoJvr3H1oBEN8Vd+vmjb/+j35C/EiJEqoctRNzZAIgB/yH
c6SXUzu4JDYmI4nJY4tFo+nlTIkTSGAIbhpO9Yw=
-----END CERTIFICATE-----
`;

/** The certificate of `receiver.test`, signed by `testCa`. */
export const receiverCert = `-----BEGIN CERTIFICATE-----
MIIBsTCCAVegAwIBAgIUETFEzf8FRTKh5gEmXXRvRl+A40swCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwObm90aWZ5IHRlc3QgQ0EwIBcNMjYxMjAyMTcxNTM2WhgPMjEy
NjExMDgxNzE1MzZaMBgxFjAUBgNVBAMMDXJlY2VpdmVyLnRlc3QwWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAASq1On36Lh7V8Ms+vTe9syyMw6pcEzwOhy/bzNARqje
mVdEnbfMPViVKRrZmlrLkH9Eth8plyvPp848+kMsuhKCo3wwejAYBgNVHREEETAP
gg1yZWNlaXZlci50ZXN0MAkGA1UdEwQCMAAwEwYDVR0lBAwwCgYIKwYBBQUHAwEw
HQYDVR0OBBYEFEN1xKeVzIgeBT0zkyDISnPEoXRpMB8GA1UdIwQYMBaAFH2fUt/F
pYfZBH3gFMGQmH/mAU0YMAoGCCqGSM49BAMCA0gAMEUCIA04YtZ3yGf5BkdyAai7
FKxb0+3e/WE0VlU/NWdEoZPPAiEA8Tlum/tC9utD/oA1LLKxDNbrDK9Z3RkxwzoI
pw3us0E=
-----END CERTIFICATE-----
`;

/** Its private key; for the test receiver only. */
export const receiverKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnUY/et2OOfuvBNcM
11Lim2vDB38ks402118RcInnew2hRANCAASq1On36Lh7V8Ms+vTe9syyMw6pcEzw
Ohy/bzNARqjemVdEnbfMPViVKRrZmlrLkH9Eth8plyvPp848+kMsuhKC
-----END PRIVATE KEY-----
`;
