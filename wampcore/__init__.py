"""wampcore: a sans-I/O WAMP v2 implementation (client peer, router, codecs, framings)."""
