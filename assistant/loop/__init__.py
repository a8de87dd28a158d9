"""The hands-free loop on the device: microphone to answer aloud, and the turn-taking around it."""
