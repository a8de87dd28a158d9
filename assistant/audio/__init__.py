"""Audio devices: microphone capture, device discovery and waiting for late devices."""
