"""Portrait Booth: turns a selfie into portraits with Qolaba's Face Consistency API."""
